#include "core/error.h"
#include "io/capture_archive.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "temp_dir.h"

namespace sc {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr std::int64_t k_now = 1700000000;

std::string slurp(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

unsigned mode_of(const fs::path& path) {
    struct stat status {};
    EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
    return status.st_mode & 07777U;
}

// The names of the files of a folder (not its subfolders), sorted.
std::vector<std::string> files_in(const fs::path& folder) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) {
        if (!entry.is_directory()) {
            names.push_back(entry.path().filename().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

ExitStatus open_status(const fs::path& directory) {
    try {
        CaptureArchive archive(directory, k_now);
    } catch (const Error& error) {
        return error.status();
    }
    return ExitStatus::ok;
}

TEST(CaptureArchive, CreatesMissingFoldersPrivately) {
    const TempDir temp;
    const fs::path root = temp.path() / "archive";
    CaptureArchive archive(root, k_now);
    for (const fs::path& folder : {root, root / "done", root / "failed", root / ".partial"}) {
        ASSERT_TRUE(fs::is_directory(folder)) << folder;
        EXPECT_EQ(mode_of(folder), 0700U) << folder;
    }
    ASSERT_TRUE(fs::exists(root / ".lock"));
    EXPECT_EQ(mode_of(root / ".lock"), 0600U);
    EXPECT_EQ(archive.inbox_size(), 0U);
    EXPECT_EQ(archive.failed_size(), 0U);
}

TEST(CaptureArchive, StoresACaptureWholeUnderItsName) {
    const TempDir temp;
    CaptureArchive archive(temp.path(), k_now);
    const std::string bytes("POST / HTTP/1.1\r\n\r\n{\0}\xFF", 23);
    EXPECT_EQ(archive.store("evt_1", bytes), CaptureArchive::Stored::added);
    const fs::path file = temp.path() / "evt_1.http";
    EXPECT_EQ(slurp(file), bytes);
    EXPECT_EQ(mode_of(file), 0600U);
    EXPECT_EQ(archive.inbox_path("evt_1"), file.string());
    EXPECT_EQ(archive.read("evt_1"), bytes);
    EXPECT_EQ(archive.inbox_size(), 1U);
    EXPECT_TRUE(files_in(temp.path() / ".partial").empty());
}

TEST(CaptureArchive, CallsASecondStoreOfANameADuplicate) {
    const TempDir temp;
    CaptureArchive archive(temp.path(), k_now);
    EXPECT_EQ(archive.store("evt_1", "first"), CaptureArchive::Stored::added);
    EXPECT_EQ(archive.store("evt_1", "second"), CaptureArchive::Stored::duplicate);
    EXPECT_EQ(archive.read("evt_1"), "first");
    EXPECT_EQ(archive.inbox_size(), 1U);
}

TEST(CaptureArchive, CallsAStoreOfABookedNameADuplicate) {
    const TempDir temp;
    CaptureArchive archive(temp.path(), k_now);
    ASSERT_EQ(archive.store("evt_1", "first"), CaptureArchive::Stored::added);
    archive.mark_done("evt_1");
    EXPECT_EQ(archive.store("evt_1", "again"), CaptureArchive::Stored::duplicate);
    EXPECT_FALSE(fs::exists(temp.path() / "evt_1.http"));
    EXPECT_EQ(slurp(temp.path() / "done" / "evt_1.http"), "first");
    EXPECT_EQ(archive.inbox_size(), 0U);
}

TEST(CaptureArchive, CountsWhatAnEarlierRunLeft) {
    const TempDir temp;
    temp.write("a.http", "a");
    temp.write("b.http", "b");
    temp.write("notes.txt", "not a capture");
    temp.write(".hidden.http", "hidden");
    temp.write("failed/c.http", "c");
    temp.write("failed/c.reason", "why\n");
    temp.write("done/d.http", "d");
    const CaptureArchive archive(temp.path(), k_now);
    EXPECT_EQ(archive.inbox_size(), 2U);
    EXPECT_EQ(archive.failed_size(), 1U);
}

TEST(CaptureArchive, MarkDoneMovesToDoneAndDropsAFailedCopy) {
    const TempDir temp;
    temp.write("failed/evt_1.http", "old");
    temp.write("failed/evt_1.reason", "it failed\n");
    temp.write("failed/evt_2.http", "other");
    CaptureArchive archive(temp.path(), k_now);
    ASSERT_EQ(archive.failed_size(), 2U);
    ASSERT_EQ(archive.store("evt_1", "new"), CaptureArchive::Stored::added);
    archive.mark_done("evt_1");
    EXPECT_FALSE(fs::exists(temp.path() / "evt_1.http"));
    EXPECT_EQ(slurp(temp.path() / "done" / "evt_1.http"), "new");
    EXPECT_EQ(files_in(temp.path() / "failed"), std::vector<std::string>{"evt_2.http"});
    EXPECT_EQ(archive.inbox_size(), 0U);
    EXPECT_EQ(archive.failed_size(), 1U);
    EXPECT_EQ(archive.read("evt_1"), std::nullopt);
}

TEST(CaptureArchive, MarkFailedMovesToFailedWithTheReason) {
    const TempDir temp;
    CaptureArchive archive(temp.path(), k_now);
    ASSERT_EQ(archive.store("evt_1", "bytes"), CaptureArchive::Stored::added);
    archive.mark_failed("evt_1", "ch_1: refused by Comptentra");
    EXPECT_FALSE(fs::exists(temp.path() / "evt_1.http"));
    EXPECT_EQ(slurp(temp.path() / "failed" / "evt_1.http"), "bytes");
    EXPECT_EQ(slurp(temp.path() / "failed" / "evt_1.reason"), "ch_1: refused by Comptentra\n");
    EXPECT_EQ(mode_of(temp.path() / "failed" / "evt_1.reason"), 0600U);
    EXPECT_EQ(archive.inbox_size(), 0U);
    EXPECT_EQ(archive.failed_size(), 1U);
    EXPECT_TRUE(files_in(temp.path() / ".partial").empty());
}

TEST(CaptureArchive, MarkFailedAgainReplacesTheCopyAndTheReason) {
    const TempDir temp;
    CaptureArchive archive(temp.path(), k_now);
    ASSERT_EQ(archive.store("evt_1", "one"), CaptureArchive::Stored::added);
    archive.mark_failed("evt_1", "first");
    ASSERT_EQ(archive.store("evt_1", "two"), CaptureArchive::Stored::added);
    EXPECT_EQ(archive.inbox_size(), 1U);
    archive.mark_failed("evt_1", "second");
    EXPECT_EQ(slurp(temp.path() / "failed" / "evt_1.http"), "two");
    EXPECT_EQ(slurp(temp.path() / "failed" / "evt_1.reason"), "second\n");
    EXPECT_EQ(archive.failed_size(), 1U);
    EXPECT_EQ(archive.inbox_size(), 0U);
}

TEST(CaptureArchive, MarkingANameThatIsGoneDoesNothing) {
    const TempDir temp;
    CaptureArchive archive(temp.path(), k_now);
    ASSERT_EQ(archive.store("evt_1", "bytes"), CaptureArchive::Stored::added);
    archive.mark_done("evt_1");
    archive.mark_done("evt_1");
    archive.mark_failed("evt_1", "too late");
    archive.mark_done("evt_never");
    archive.mark_failed("evt_never", "never stored");
    EXPECT_EQ(files_in(temp.path() / "done"), std::vector<std::string>{"evt_1.http"});
    EXPECT_TRUE(files_in(temp.path() / "failed").empty());
    EXPECT_TRUE(files_in(temp.path() / ".partial").empty());
    EXPECT_EQ(archive.inbox_size(), 0U);
    EXPECT_EQ(archive.failed_size(), 0U);
}

TEST(CaptureArchive, MarkingAGoneNameKeepsTheReasonOfAnEarlierFailure) {
    const TempDir temp;
    temp.write("failed/evt_1.http", "old");
    temp.write("failed/evt_1.reason", "the first reason\n");
    CaptureArchive archive(temp.path(), k_now);
    archive.mark_failed("evt_1", "not about this copy");
    EXPECT_EQ(slurp(temp.path() / "failed" / "evt_1.reason"), "the first reason\n");
    EXPECT_EQ(archive.failed_size(), 1U);
}

TEST(CaptureArchive, ReadsNothingForANameThatIsGone) {
    const TempDir temp;
    CaptureArchive archive(temp.path(), k_now);
    EXPECT_EQ(archive.read("evt_never"), std::nullopt);
    ASSERT_EQ(archive.store("evt_1", "x"), CaptureArchive::Stored::added);
    archive.mark_failed("evt_1", "why");
    EXPECT_EQ(archive.read("evt_1"), std::nullopt);
}

TEST(CaptureArchive, ListsTheSmallestNamesOfTheInboxInOrder) {
    const TempDir temp;
    temp.write(".hidden.http", "x");
    temp.write("readme.txt", "x");
    temp.write("evt_0.http.tmp", "x");
    temp.write(".http", "x");
    temp.write("done/evt_00.http", "x");
    CaptureArchive archive(temp.path(), k_now);
    for (const char* name : {"evt_5", "evt_2", "evt_9", "evt_1", "evt_7", "evt_3"}) {
        ASSERT_EQ(archive.store(name, name), CaptureArchive::Stored::added);
    }
    EXPECT_EQ(archive.inbox(3), (std::vector<std::string>{"evt_1", "evt_2", "evt_3"}));
    EXPECT_EQ(archive.inbox(1), std::vector<std::string>{"evt_1"});
    EXPECT_TRUE(archive.inbox(0).empty());
    EXPECT_EQ(archive.inbox(100),
              (std::vector<std::string>{"evt_1", "evt_2", "evt_3", "evt_5", "evt_7", "evt_9"}));
    EXPECT_EQ(archive.inbox_size(), 6U);
}

TEST(CaptureArchive, RemovesPartialWritesOfAnEarlierRun) {
    const TempDir temp;
    temp.write(".partial/evt_1.http.123.1", "half");
    temp.write(".partial/evt_2.reason.123.2", "half");
    const CaptureArchive archive(temp.path(), k_now);
    EXPECT_TRUE(files_in(temp.path() / ".partial").empty());
    EXPECT_EQ(archive.inbox_size(), 0U);
}

TEST(CaptureArchive, RefusesASecondOpenOfTheSameFolderAsTemporary) {
    const TempDir temp;
    {
        const CaptureArchive first(temp.path(), k_now);
        EXPECT_EQ(open_status(temp.path()), ExitStatus::temporary);
    }
    EXPECT_EQ(open_status(temp.path()), ExitStatus::ok); // the lock went with the first
}

TEST(CaptureArchive, RefusesAFolderWhoseParentIsMissing) {
    const TempDir temp;
    EXPECT_EQ(open_status(temp.path() / "missing" / "archive"), ExitStatus::config);
}

TEST(CaptureArchive, RefusesAPathThatIsAFile) {
    const TempDir temp;
    EXPECT_EQ(open_status(temp.write("file", "x")), ExitStatus::config);
    temp.write("archive/done", "a file where a folder goes");
    EXPECT_EQ(open_status(temp.path() / "archive"), ExitStatus::config);
}

TEST(CaptureArchive, RefusesAFolderItCannotWrite) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "permissions do not apply to root";
    }
    const TempDir temp;
    const fs::path root = temp.path() / "archive";
    fs::create_directory(root);
    fs::permissions(root, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_EQ(open_status(root), ExitStatus::config);
    fs::permissions(root, fs::perms::owner_all);
}

} // namespace
} // namespace sc
