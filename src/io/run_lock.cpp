#include "io/run_lock.h"

#include "core/civil_time.h"
#include "core/error.h"
#include "core/redact.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>

namespace sc {
namespace {

// What the holder wrote into the lock file, on one line, made printable.
std::string holder_of(int fd) {
    char buffer[256] = {};
    const ssize_t size = pread(fd, buffer, sizeof buffer - 1, 0);
    std::string text(buffer, size > 0 ? static_cast<std::size_t>(size) : 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text.empty() ? "a process that has not written its name yet" : printable(text);
}

std::string host_name() {
    char name[256] = {};
    return gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("?");
}

} // namespace

RunLock::RunLock(const std::string& path, std::int64_t now) {
    m_fd = open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (m_fd < 0) {
        throw Error(ExitStatus::config, fmt::format("lock file {}: {}", path, std::strerror(errno)),
                    "pass --lock FILE with a path this user can write");
    }
    if (flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        const int reason = errno;
        const std::string holder = reason == EWOULDBLOCK ? holder_of(m_fd) : "";
        close(m_fd);
        m_fd = -1;
        if (reason != EWOULDBLOCK) {
            throw Error(ExitStatus::config,
                        fmt::format("lock file {}: {}", path, std::strerror(reason)));
        }
        throw Error(ExitStatus::temporary,
                    fmt::format("another run holds the lock {}: {}", path, holder),
                    "it ends by itself; run again once it has finished");
    }
    const std::string line =
        fmt::format("pid {} on {}, started {}\n", getpid(), host_name(), to_iso_utc(now));
    // Should the write fail, the lock holds all the same: only the holder's name is missing.
    if (ftruncate(m_fd, 0) == 0) {
        [[maybe_unused]] const ssize_t written = pwrite(m_fd, line.data(), line.size(), 0);
    }
}

RunLock::~RunLock() {
    if (m_fd >= 0) {
        close(m_fd);
    }
}

std::string default_lock_path(const Environment& environment, const std::string& job) {
    if (const auto runtime = environment.get("XDG_RUNTIME_DIR");
        runtime && runtime->starts_with('/')) {
        return fmt::format("{}/stripe-comptentra-{}.lock", *runtime, job);
    }
    return fmt::format("/tmp/stripe-comptentra-{}-{}.lock", job, getuid());
}

} // namespace sc
