#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace sc::testing {

/// A fresh directory under GoogleTest's temporary directory, removed with everything in it
/// when the object goes out of scope. Its name is unique to the process and the test.
class TempDir {
  public:
    TempDir() {
        static int counter = 0;
        const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
        const std::string name = std::string("sc_") + (test ? test->test_suite_name() : "x") + "_" +
                                 (test ? test->name() : "x") + "_" + std::to_string(::getpid()) +
                                 "_" + std::to_string(++counter);
        m_path = std::filesystem::path(::testing::TempDir()) / name;
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return m_path; }

    /// Writes `bytes` exactly to `relative` (parent directories created) and returns its path.
    std::filesystem::path write(const std::filesystem::path& relative,
                                std::string_view bytes) const {
        const auto file = m_path / relative;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return file;
    }

  private:
    std::filesystem::path m_path;
};

} // namespace sc::testing
