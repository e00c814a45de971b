#pragma once

#include "io/run_lock.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sc {

/// The folder where `listen` keeps what Stripe sent: new captures in the folder itself (the
/// inbox), booked ones in `done/`, those that could not be booked in `failed/` with a `.reason`
/// file beside each. A capture is written under a hidden name, synced to disk, then linked
/// into the inbox: it is whole under its final name, or absent. Safe to share between threads.
class CaptureArchive {
  public:
    /// Opens the folder, creating it and its subfolders (mode 0700) when missing, takes its
    /// lock (`.lock`, stamped with `now`) and removes the partial writes of an earlier run.
    /// Throws Error: 75 when another process has the archive open, 78 when it cannot open it.
    CaptureArchive(std::filesystem::path directory, std::int64_t now);
    ~CaptureArchive();
    CaptureArchive(const CaptureArchive&) = delete;
    CaptureArchive& operator=(const CaptureArchive&) = delete;

    /// What store() did.
    enum class Stored {
        added,    ///< the capture is in the inbox, on disk
        duplicate ///< the inbox or done/ holds that name already (synced to disk)
    };

    /// Writes `bytes` as the capture `name` (a file name without `.http`) durably into the
    /// inbox. Throws Error (75) when the disk refuses: nothing is stored then.
    Stored store(const std::string& name, std::string_view bytes);

    /// The first `limit` names of the inbox, in name order. Throws Error (75) when the folder
    /// cannot be read.
    std::vector<std::string> inbox(std::size_t limit) const;

    /// The bytes of an inbox capture; nothing when it is no longer there.
    std::optional<std::string> read(const std::string& name) const;

    /// The path of an inbox capture, as results name it.
    std::string inbox_path(const std::string& name) const;

    /// Moves an inbox capture to done/, and drops a failed/ copy an earlier delivery left.
    void mark_done(const std::string& name);

    /// Moves an inbox capture to failed/ and writes `reason` beside it, in `<name>.reason`.
    void mark_failed(const std::string& name, const std::string& reason);

    /// How many captures wait in the inbox.
    std::size_t inbox_size() const { return m_inbox_size.load(); }

    /// How many captures are in failed/.
    std::size_t failed_size() const { return m_failed_size.load(); }

  private:
    void close_folders();
    void sync_inbox();
    bool remove_from_inbox(const std::string& file);

    std::filesystem::path m_directory;
    std::unique_ptr<RunLock> m_lock;
    int m_inbox_fd = -1;
    int m_done_fd = -1;
    int m_failed_fd = -1;
    int m_partial_fd = -1;
    std::atomic<std::size_t> m_inbox_size = 0;
    std::atomic<std::size_t> m_failed_size = 0;
    std::atomic<std::uint64_t> m_writes = 0;
};

} // namespace sc
