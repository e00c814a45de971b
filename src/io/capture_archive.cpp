#include "io/capture_archive.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <queue>
#include <sys/stat.h>
#include <unistd.h>

namespace sc {
namespace {

constexpr std::string_view k_extension = ".http";

Error disk_error(const std::string& doing, const std::filesystem::path& path) {
    return Error(ExitStatus::temporary,
                 fmt::format("cannot {} {}: {}", doing, path.string(), std::strerror(errno)));
}

// Opens (creating it when missing) a folder of the archive.
int open_folder(const std::filesystem::path& path) {
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(ExitStatus::config,
                    fmt::format("archive folder {}: {}", path.string(), std::strerror(errno)),
                    "pass --archive with a folder this user can write");
    }
    const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || faccessat(fd, ".", W_OK, 0) != 0) {
        const int reason = errno;
        if (fd >= 0) {
            close(fd);
        }
        throw Error(ExitStatus::config,
                    fmt::format("archive folder {}: {}", path.string(), std::strerror(reason)),
                    "pass --archive with a folder this user can write");
    }
    return fd;
}

bool is_capture(std::string_view file) {
    return file.size() > k_extension.size() && !file.starts_with('.') &&
           file.ends_with(k_extension);
}

// Calls `each` with the name of every file of a folder but `.` and `..`; false when the folder
// cannot be read.
template <typename Each> bool for_each_file(int folder_fd, Each each) {
    const int fd = openat(folder_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* listing = fd >= 0 ? fdopendir(fd) : nullptr;
    if (listing == nullptr) {
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    while (const dirent* found = readdir(listing)) {
        const std::string_view file = found->d_name;
        if (file != "." && file != ".." && found->d_type != DT_DIR) {
            each(file);
        }
    }
    closedir(listing);
    return true;
}

// Calls `each` with the name (without `.http`) of every capture of a folder; false when the
// folder cannot be read.
template <typename Each> bool for_each_capture(int folder_fd, Each each) {
    return for_each_file(folder_fd, [&](std::string_view file) {
        if (is_capture(file)) {
            each(std::string(file.substr(0, file.size() - k_extension.size())));
        }
    });
}

bool exists_in(int folder_fd, const std::string& file) {
    struct stat status {};
    return fstatat(folder_fd, file.c_str(), &status, AT_SYMLINK_NOFOLLOW) == 0;
}

// Writes all of `bytes` to a new file of a folder and syncs it; false with errno set if not.
bool write_synced(int folder_fd, const std::string& file, std::string_view bytes) {
    const int fd = openat(folder_fd, file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t count = write(fd, bytes.data() + written, bytes.size() - written);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count <= 0) {
            const int reason = errno;
            close(fd);
            unlinkat(folder_fd, file.c_str(), 0);
            errno = reason;
            return false;
        }
        written += static_cast<std::size_t>(count);
    }
    if (fsync(fd) != 0) {
        const int reason = errno;
        close(fd);
        unlinkat(folder_fd, file.c_str(), 0);
        errno = reason;
        return false;
    }
    return close(fd) == 0;
}

} // namespace

CaptureArchive::CaptureArchive(std::filesystem::path directory, std::int64_t now)
    : m_directory(std::move(directory)) {
    try {
        m_inbox_fd = open_folder(m_directory);
        m_lock = std::make_unique<RunLock>((m_directory / ".lock").string(), now);
        m_done_fd = open_folder(m_directory / "done");
        m_failed_fd = open_folder(m_directory / "failed");
        m_partial_fd = open_folder(m_directory / ".partial");
    } catch (...) {
        close_folders();
        throw;
    }
    std::vector<std::string> partial; // never answered, so never acknowledged
    for_each_file(m_partial_fd, [&](std::string_view file) { partial.emplace_back(file); });
    for (const std::string& file : partial) {
        unlinkat(m_partial_fd, file.c_str(), 0);
    }
    for_each_capture(m_inbox_fd, [this](const std::string&) { ++m_inbox_size; });
    for_each_capture(m_failed_fd, [this](const std::string&) { ++m_failed_size; });
}

CaptureArchive::~CaptureArchive() {
    close_folders();
}

void CaptureArchive::close_folders() {
    for (const int fd : {m_inbox_fd, m_done_fd, m_failed_fd, m_partial_fd}) {
        if (fd >= 0) {
            close(fd);
        }
    }
}

CaptureArchive::Stored CaptureArchive::store(const std::string& name, std::string_view bytes) {
    const std::string file = name + std::string(k_extension);
    if (exists_in(m_inbox_fd, file)) {
        sync_inbox(); // the first copy may still be on its way to the disk
        return Stored::duplicate;
    }
    if (exists_in(m_done_fd, file)) {
        return Stored::duplicate;
    }
    const std::string partial = fmt::format("{}.{}.{}", file, getpid(), ++m_writes);
    if (!write_synced(m_partial_fd, partial, bytes)) {
        throw disk_error("write", m_directory / ".partial" / partial);
    }
    // A link never replaces: of two deliveries of one event at once, one adds, one finds it.
    const int linked = linkat(m_partial_fd, partial.c_str(), m_inbox_fd, file.c_str(), 0);
    const int reason = errno;
    unlinkat(m_partial_fd, partial.c_str(), 0);
    if (linked != 0 && reason == EEXIST) {
        sync_inbox();
        return Stored::duplicate;
    }
    errno = reason;
    if (linked != 0) {
        throw disk_error("store", m_directory / file);
    }
    ++m_inbox_size;
    if (fsync(m_inbox_fd) != 0) { // not answered, so not acknowledged: Stripe sends it again
        const int failure = errno;
        remove_from_inbox(file);
        errno = failure;
        throw disk_error("store", m_directory / file);
    }
    // Booked and moved to done/ while this copy was being written: it is a duplicate.
    if (exists_in(m_done_fd, file) && remove_from_inbox(file)) {
        return Stored::duplicate;
    }
    return Stored::added;
}

void CaptureArchive::sync_inbox() {
    if (fsync(m_inbox_fd) != 0) {
        throw disk_error("sync", m_directory);
    }
}

bool CaptureArchive::remove_from_inbox(const std::string& file) {
    if (unlinkat(m_inbox_fd, file.c_str(), 0) != 0) {
        return false;
    }
    --m_inbox_size;
    return true;
}

std::vector<std::string> CaptureArchive::inbox(std::size_t limit) const {
    std::priority_queue<std::string> first; // the `limit` smallest names, largest on top
    const bool read = for_each_capture(m_inbox_fd, [&](std::string name) {
        if (first.size() < limit) {
            first.push(std::move(name));
        } else if (limit > 0 && name < first.top()) {
            first.pop();
            first.push(std::move(name));
        }
    });
    if (!read) {
        throw disk_error("list", m_directory);
    }
    std::vector<std::string> names(first.size());
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
        *it = first.top();
        first.pop();
    }
    return names;
}

std::optional<std::string> CaptureArchive::read(const std::string& name) const {
    const std::string file = name + std::string(k_extension);
    const int fd = openat(m_inbox_fd, file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw disk_error("read", m_directory / file);
    }
    std::string bytes;
    char buffer[16384];
    ssize_t count = 0;
    while ((count = ::read(fd, buffer, sizeof buffer)) != 0) {
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            const int reason = errno;
            close(fd);
            errno = reason;
            throw disk_error("read", m_directory / file);
        }
        bytes.append(buffer, static_cast<std::size_t>(count));
    }
    close(fd);
    return bytes;
}

std::string CaptureArchive::inbox_path(const std::string& name) const {
    return (m_directory / (name + std::string(k_extension))).string();
}

void CaptureArchive::mark_done(const std::string& name) {
    const std::string file = name + std::string(k_extension);
    if (renameat(m_inbox_fd, file.c_str(), m_done_fd, file.c_str()) != 0) {
        if (errno == ENOENT) { // moved already, by a worker booking a duplicate
            return;
        }
        throw disk_error("move to done/", m_directory / file);
    }
    --m_inbox_size;
    fsync(m_done_fd); // should it not reach the disk, the capture is booked again: `exists`
    if (unlinkat(m_failed_fd, file.c_str(), 0) == 0) {
        --m_failed_size;
        unlinkat(m_failed_fd, (name + ".reason").c_str(), 0);
    }
}

void CaptureArchive::mark_failed(const std::string& name, const std::string& reason) {
    const std::string file = name + std::string(k_extension);
    const std::string reason_file = name + ".reason";
    if (!exists_in(m_inbox_fd, file)) {
        return; // moved already: no reason to write, nor an earlier failure's to replace
    }
    const std::string partial = fmt::format("{}.{}.{}", reason_file, getpid(), ++m_writes);
    if (write_synced(m_partial_fd, partial, reason + "\n")) {
        renameat(m_partial_fd, partial.c_str(), m_failed_fd, reason_file.c_str());
    }
    const bool replaces = exists_in(m_failed_fd, file);
    if (renameat(m_inbox_fd, file.c_str(), m_failed_fd, file.c_str()) != 0) {
        if (errno == ENOENT) {
            return;
        }
        throw disk_error("move to failed/", m_directory / file);
    }
    --m_inbox_size;
    if (!replaces) {
        ++m_failed_size;
    }
    fsync(m_failed_fd);
}

} // namespace sc
