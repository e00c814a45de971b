#pragma once

#include "io/environment.h"

#include <cstdint>
#include <string>

namespace sc {

/// An exclusive lock on a file for the life of a run, so that two runs of the same job never
/// overlap. The kernel releases it when the process ends, however it ends; the file stays.
class RunLock {
  public:
    /// Takes the lock on `path` (created, mode 0600, if missing) and writes this process's pid,
    /// host and start time into it. Throws Error (75) naming the holder when another process
    /// holds it, or Error (78) when the file cannot be opened.
    RunLock(const std::string& path, std::int64_t now);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

  private:
    int m_fd = -1;
};

/// The default lock file of a job: `$XDG_RUNTIME_DIR/stripe-comptentra-<job>.lock`, else
/// `/tmp/stripe-comptentra-<job>-<uid>.lock`.
std::string default_lock_path(const Environment& environment, const std::string& job);

} // namespace sc
