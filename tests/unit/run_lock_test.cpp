#include "core/civil_time.h"
#include "core/error.h"
#include "io/environment.h"
#include "io/run_lock.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>

#include "temp_dir.h"

namespace sc {
namespace {

using testing::TempDir;
using Variables = std::map<std::string, std::string, std::less<>>;

// 2026-11-30T14:05:00Z
constexpr std::int64_t k_started = 1796047500;

// The Error that taking the lock throws; fails the test when the lock is taken.
std::optional<Error> lock_error(const std::string& path, std::int64_t now = k_started) {
    try {
        RunLock lock(path, now);
    } catch (const Error& error) {
        return error;
    }
    ADD_FAILURE() << "the lock " << path << " was taken";
    return std::nullopt;
}

std::string contents_of(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string host_name() {
    char name[256] = {};
    return ::gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("?");
}

// What a holder writes into the lock file.
std::string holder_line(std::int64_t now) {
    std::ostringstream line;
    line << "pid " << ::getpid() << " on " << host_name() << ", started " << to_iso_utc(now)
         << "\n";
    return line.str();
}

std::string pid_phrase() {
    return "pid " + std::to_string(::getpid()) + " on ";
}

TEST(RunLock, RefusesASecondRunWhileTheFirstHoldsIt) {
    TempDir dir;
    const std::string path = (dir.path() / "reconcile.lock").string();
    RunLock first(path, k_started);
    const auto error = lock_error(path, k_started + 60);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->status(), ExitStatus::temporary);
    EXPECT_EQ(to_int(error->status()), 75);
    const std::string message = error->what();
    EXPECT_NE(message.find("another run holds the lock " + path), std::string::npos) << message;
    EXPECT_NE(message.find(pid_phrase()), std::string::npos) << message;
    EXPECT_NE(message.find("started 2026-11-30T14:05:00Z"), std::string::npos) << message;
    EXPECT_FALSE(error->hint().empty());
}

TEST(RunLock, StaysHeldAfterARefusedAttempt) {
    TempDir dir;
    const std::string path = (dir.path() / "reconcile.lock").string();
    RunLock first(path, k_started);
    for (int attempt = 0; attempt < 3; ++attempt) {
        const auto error = lock_error(path);
        ASSERT_TRUE(error.has_value()) << attempt;
        EXPECT_EQ(error->status(), ExitStatus::temporary) << attempt;
    }
    EXPECT_EQ(contents_of(path), holder_line(k_started)) << "a refused run writes nothing";
}

TEST(RunLock, CanBeTakenAgainOnceTheFirstIsGone) {
    TempDir dir;
    const std::string path = (dir.path() / "reconcile.lock").string();
    { RunLock first(path, k_started); }
    EXPECT_TRUE(std::filesystem::exists(path)) << "the file stays";
    std::optional<RunLock> second;
    EXPECT_NO_THROW(second.emplace(path, k_started + 3600));
    EXPECT_EQ(contents_of(path), holder_line(k_started + 3600));
    EXPECT_TRUE(lock_error(path).has_value()) << "the second run holds it now";
}

TEST(RunLock, WritesItsHolderOverWhatThePreviousOneWrote) {
    TempDir dir;
    const auto path = dir.write("reconcile.lock", std::string(300, 'x') + "\n");
    RunLock lock(path.string(), k_started);
    EXPECT_EQ(contents_of(path), holder_line(k_started));
}

TEST(RunLock, CreatesTheFileForItsOwnerOnly) {
    TempDir dir;
    const auto path = dir.path() / "reconcile.lock";
    RunLock lock(path.string(), k_started);
    ASSERT_TRUE(std::filesystem::is_regular_file(path));
    using std::filesystem::perms;
    EXPECT_EQ(std::filesystem::status(path).permissions(), perms::owner_read | perms::owner_write);
}

TEST(RunLock, RefusesAPathInAMissingDirectoryAsAConfigurationError) {
    TempDir dir;
    const std::string path = (dir.path() / "missing" / "reconcile.lock").string();
    const auto error = lock_error(path);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->status(), ExitStatus::config);
    EXPECT_EQ(to_int(error->status()), 78);
    EXPECT_NE(std::string(error->what()).find(path), std::string::npos) << error->what();
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing"));
}

TEST(RunLock, RefusesADirectoryAsAConfigurationError) {
    TempDir dir;
    const auto error = lock_error(dir.path().string());
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->status(), ExitStatus::config);
}

TEST(RunLock, RefusesASymlinkAtTheLockPath) {
    TempDir dir;
    const auto target = dir.write("precious.txt", "keep me\n");
    const auto link = dir.path() / "reconcile.lock";
    std::filesystem::create_symlink(target, link);
    const auto error = lock_error(link.string());
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->status(), ExitStatus::config);
    EXPECT_NE(std::string(error->what()).find(link.string()), std::string::npos) << error->what();
    EXPECT_EQ(contents_of(target), "keep me\n");
    EXPECT_TRUE(std::filesystem::is_symlink(link));
}

TEST(RunLock, RefusesADanglingSymlinkWithoutCreatingItsTarget) {
    TempDir dir;
    const auto target = dir.path() / "elsewhere.lock";
    const auto link = dir.path() / "reconcile.lock";
    std::filesystem::create_symlink(target, link);
    const auto error = lock_error(link.string());
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->status(), ExitStatus::config);
    EXPECT_FALSE(std::filesystem::exists(target));
}

TEST(RunLockDefaultPath, IsInTheRuntimeDirectory) {
    const MapEnvironment environment(Variables{{"XDG_RUNTIME_DIR", "/run/user/1000"}});
    EXPECT_EQ(default_lock_path(environment, "reconcile"),
              "/run/user/1000/stripe-comptentra-reconcile.lock");
    EXPECT_EQ(default_lock_path(environment, "backfill"),
              "/run/user/1000/stripe-comptentra-backfill.lock");
}

TEST(RunLockDefaultPath, IsInTmpWithTheUidWithoutAnAbsoluteRuntimeDirectory) {
    const std::string fallback =
        "/tmp/stripe-comptentra-reconcile-" + std::to_string(::getuid()) + ".lock";
    EXPECT_EQ(default_lock_path(MapEnvironment(Variables{}), "reconcile"), fallback);
    EXPECT_EQ(default_lock_path(MapEnvironment(Variables{{"XDG_RUNTIME_DIR", ""}}), "reconcile"),
              fallback);
    EXPECT_EQ(default_lock_path(MapEnvironment(Variables{{"XDG_RUNTIME_DIR", "run/user/1000"}}),
                                "reconcile"),
              fallback);
    EXPECT_EQ(default_lock_path(MapEnvironment(Variables{{"XDG_RUNTIME_DIR", "."}}), "reconcile"),
              fallback);
    EXPECT_EQ(default_lock_path(MapEnvironment(Variables{{"HOME", "/home/me"}}), "reconcile"),
              fallback);
}

} // namespace
} // namespace sc
