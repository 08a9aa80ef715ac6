// atomic_file.cpp: temp file + fsync + rename + directory fsync; stale
// temporaries of crashed writers removed at start.
#include "atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "crash_point.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

std::atomic<unsigned long> g_counter{0};
constexpr const char* kTmpMarker = ".tmp.";  // ".<name>.tmp.<pid>.<n>"

// The writer's pid from a temporary's name, or 0 when it is not one of ours.
pid_t temporary_writer(const std::string& file) {
    if (file.size() < 2 || file.front() != '.') return 0;
    auto marker = file.rfind(kTmpMarker);
    if (marker == std::string::npos || marker == 0) return 0;
    std::string rest = file.substr(marker + std::strlen(kTmpMarker));  // "<pid>.<n>"
    auto dot = rest.find('.');
    if (dot == std::string::npos || dot == 0) return 0;
    for (std::size_t i = 0; i < rest.size(); ++i)
        if (i != dot && !std::isdigit(static_cast<unsigned char>(rest[i]))) return 0;
    return static_cast<pid_t>(std::stol(rest.substr(0, dot)));
}

bool process_alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

std::size_t remove_stale_in(const std::filesystem::path& dir, std::chrono::seconds min_age,
                            std::chrono::seconds max_age) {
    std::size_t removed = 0;
    std::error_code ec;
    const auto now = std::filesystem::file_time_type::clock::now();
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        std::string file = e.path().filename().string();
        pid_t writer = temporary_writer(file);
        if (writer <= 0) continue;
        std::error_code tec;
        auto mtime = std::filesystem::last_write_time(e.path(), tec);
        if (tec) continue;
        auto age = now - mtime;
        bool stale = age > max_age || (age > min_age && (writer == ::getpid() ? false : !process_alive(writer)));
        if (stale && ::unlink(e.path().c_str()) == 0) ++removed;
    }
    return removed;
}

[[noreturn]] void io_fail(const std::string& what, const std::filesystem::path& p, int err) {
    fail(ErrorKind::TempFail, what + " " + p.string() + ": " + std::strerror(err));
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// The temporary's name for `name`: ".<name>.tmp.<pid>.<n>".
std::filesystem::path temporary_for(const std::filesystem::path& tmp_dir, const std::string& name) {
    return tmp_dir / ("." + name + kTmpMarker + std::to_string(::getpid()) + "." +
                      std::to_string(g_counter.fetch_add(1)));
}

// Writes all of `content` to `fd`; on failure unlinks `tmp` and throws.
void write_all(int fd, const std::filesystem::path& tmp, std::span<const std::string_view> parts) {
    // One writev per call for the pieces left (the outbox: envelope lines
    // and the message, never joined into one buffer first).
    std::vector<iovec> iov;
    iov.reserve(parts.size());
    for (auto part : parts)
        if (!part.empty()) iov.push_back({const_cast<char*>(part.data()), part.size()});
    std::size_t first = 0;
    while (first < iov.size()) {
        int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
        ssize_t n = ::writev(fd, iov.data() + first, count);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::unlink(tmp.c_str());
            io_fail("cannot write", tmp, e);
        }
        auto done = static_cast<std::size_t>(n);
        while (first < iov.size() && done >= iov[first].iov_len) done -= iov[first++].iov_len;
        if (first < iov.size()) {
            iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + done;
            iov[first].iov_len -= done;
        }
    }
}

void write_all(int fd, const std::filesystem::path& tmp, std::string_view content) {
    write_all(fd, tmp, std::span<const std::string_view>(&content, 1));
}

}  // namespace

void write_file_atomic(const std::filesystem::path& dir, const std::string& name, std::string_view content,
                       bool durable, mode_t mode, bool sync_dir, const std::string& tmp_subdir) {
    write_file_atomic(dir, name, std::span<const std::string_view>(&content, 1), durable, mode, sync_dir, tmp_subdir);
}

void write_file_atomic(const std::filesystem::path& dir, const std::string& name,
                       std::span<const std::string_view> parts, bool durable, mode_t mode, bool sync_dir,
                       const std::string& tmp_subdir) {
    std::filesystem::path final_path = dir / name;
    std::filesystem::path tmp_dir = tmp_subdir.empty() ? dir : dir / tmp_subdir;
    std::filesystem::path tmp = temporary_for(tmp_dir, name);
    Fd f;
    f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    // The temporaries' directory is made when it is missing (first write,
    // or removed meanwhile), not checked before every file.
    if (f.fd < 0 && errno == ENOENT && !tmp_subdir.empty()) {
        if (::mkdir(tmp_dir.c_str(), 0700) != 0 && errno != EEXIST) io_fail("cannot create", tmp_dir, errno);
        f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    }
    if (f.fd < 0) io_fail("cannot create", tmp, errno);
    write_all(f.fd, tmp, parts);
    if (durable && ::fsync(f.fd) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        io_fail("cannot fsync", tmp, e);
    }
    ::close(f.fd);
    f.fd = -1;
    crash_point::hit("write_file_atomic: temporary written, not renamed");
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        io_fail("cannot rename into place", final_path, e);
    }
    if (durable && sync_dir) sync_directory(dir);
}

AtomicFileGroup::~AtomicFileGroup() {
    for (auto& f : files_) {
        if (f.fd >= 0) ::close(f.fd);
        if (!f.renamed) ::unlink(f.tmp.c_str());
    }
}

void AtomicFileGroup::stage(const std::filesystem::path& dir, const std::string& name, std::string_view content,
                            int phase, mode_t mode) {
    File f;
    f.dir = dir;
    f.target = dir / name;
    f.tmp = temporary_for(dir, name);
    f.phase = phase;
    f.fd = ::open(f.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (f.fd < 0) io_fail("cannot create", f.tmp, errno);
    try {
        write_all(f.fd, f.tmp, content);
    } catch (...) {
        ::close(f.fd);
        throw;
    }
    if (!durable_) {
        ::close(f.fd);
        f.fd = -1;
    }
    files_.push_back(std::move(f));
}

void AtomicFileGroup::remove_after_commit(std::filesystem::path file) { removals_.push_back(std::move(file)); }

void AtomicFileGroup::also_sync(std::filesystem::path dir, int phase) {
    for (const auto& [d, p] : extra_dirs_)
        if (d == dir && p == phase) return;
    extra_dirs_.emplace_back(std::move(dir), phase);
}

// The filesystem type the temporaries share, nullopt when they are on more
// than one (by st_dev: cloned filesystems share their f_fsid) or when one
// cannot be asked. One fstat per directory, one fstatfs.
std::optional<long> AtomicFileGroup::shared_filesystem_type() const {
    std::optional<dev_t> device;
    std::vector<const std::filesystem::path*> seen;
    for (const auto& f : files_) {
        if (std::any_of(seen.begin(), seen.end(), [&](const auto* d) { return *d == f.dir; })) continue;
        seen.push_back(&f.dir);
        struct stat st {};
        if (::fstat(f.fd, &st) != 0) return std::nullopt;
        if (device && *device != st.st_dev) return std::nullopt;
        device = st.st_dev;
    }
    struct statfs fs {};
    if (files_.empty() || ::fstatfs(files_.front().fd, &fs) != 0) return std::nullopt;
    return static_cast<long>(fs.f_type);
}

// Every temporary complete on disk, by one syncfs (and one fsync: its
// second flush) or one fsync each (group_sync.hpp); the descriptors closed.
GroupSync AtomicFileGroup::make_temporaries_durable() {
    GroupSync how = GroupSync::FsyncEach;
    if (files_.size() >= kMinFilesForSyncfs)
        how = choose_group_sync(files_.size(),
                                {shared_filesystem_type(), running_kernel_syncfs_reports_errors(), system_dirty_bytes()});
    if (how == GroupSync::Syncfs) {
        if (::syncfs(files_.front().fd) != 0) io_fail("cannot syncfs the filesystem of", files_.front().tmp, errno);
        if (::fsync(files_.back().fd) != 0) io_fail("cannot fsync", files_.back().tmp, errno);
    } else {
        // Write-back of every temporary first, so the fsyncs below find most
        // of the data on its way and the journal commits coalesce.
        for (auto& f : files_) ::sync_file_range(f.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        for (auto& f : files_)
            if (::fsync(f.fd) != 0) io_fail("cannot fsync", f.tmp, errno);
    }
    for (auto& f : files_) {
        ::close(f.fd);
        f.fd = -1;
    }
    return how;
}

void AtomicFileGroup::commit() {
    sync_used_ = durable_ ? make_temporaries_durable() : GroupSync::FsyncEach;
    crash_point::hit("group: temporaries written, none renamed");
    std::vector<int> phases;
    for (const auto& f : files_)
        if (std::find(phases.begin(), phases.end(), f.phase) == phases.end()) phases.push_back(f.phase);
    for (const auto& x : extra_dirs_)
        if (std::find(phases.begin(), phases.end(), x.second) == phases.end()) phases.push_back(x.second);
    std::sort(phases.begin(), phases.end());
    for (int phase : phases) {
        std::vector<std::filesystem::path> dirs;
        for (auto& f : files_) {
            if (f.phase != phase) continue;
            if (::rename(f.tmp.c_str(), f.target.c_str()) != 0) io_fail("cannot rename into place", f.target, errno);
            f.renamed = true;
            crash_point::hit("group: one more file renamed into place");
            if (std::find(dirs.begin(), dirs.end(), f.dir) == dirs.end()) dirs.push_back(f.dir);
        }
        for (const auto& [d, p] : extra_dirs_)
            if (p == phase && std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
        if (durable_)
            for (const auto& d : dirs) sync_directory(d);
    }
    for (const auto& r : removals_) {
        crash_point::hit("group: committed, a duplicate to remove");
        ::unlink(r.c_str());
    }
    files_.clear();
    removals_.clear();
    extra_dirs_.clear();
}

std::optional<std::string> temporary_target(const std::string& file_name) {
    if (temporary_writer(file_name) <= 0) return std::nullopt;
    return file_name.substr(1, file_name.rfind(kTmpMarker) - 1);
}

std::size_t remove_stale_temporaries(const std::filesystem::path& dir, const std::string& tmp_subdir,
                                     std::chrono::seconds min_age, std::chrono::seconds max_age) {
    std::size_t removed = remove_stale_in(dir, min_age, max_age);
    if (!tmp_subdir.empty()) removed += remove_stale_in(dir / tmp_subdir, min_age, max_age);
    return removed;
}

void sync_directory(const std::filesystem::path& dir) {
    Fd d;
    d.fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.fd < 0 || ::fsync(d.fd) != 0) io_fail("cannot fsync directory", dir, errno);
}

namespace {

enum class OverLimit { Fail, KeepHead };

std::optional<std::string> read_bounded(const std::filesystem::path& path, std::size_t max_bytes, OverLimit over) {
    Fd f;
    // A head read takes regular files only: without O_NONBLOCK, opening a
    // FIFO nobody writes to would wait for ever.
    const int nonblock = over == OverLimit::KeepHead ? O_NONBLOCK : 0;
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | nonblock);
    if (f.fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        fail(ErrorKind::NoInput, "cannot open " + path.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(f.fd, &st) == 0 && S_ISDIR(st.st_mode)) fail(ErrorKind::NoInput, path.string() + ": is a directory");
    if (over == OverLimit::KeepHead && (!S_ISREG(st.st_mode) || ::fcntl(f.fd, F_SETFL, O_RDONLY) != 0))
        fail(ErrorKind::NoInput, path.string() + ": not a regular file");
    // Far over the limit: enough bytes for the caller to see it, none read.
    if (over == OverLimit::KeepHead && static_cast<std::uintmax_t>(st.st_size) > max_bytes)
        return std::string(max_bytes + 1, '\0');
    // Read straight into the result: a regular file's size is known, so one
    // read fills it and a second sees the end (a 1 MB message is sent
    // millions of times a night: no bounce buffer, no second copy). A file
    // that grows meanwhile, or a pipe, grows the buffer as it comes.
    // At most one byte over the limit is ever read (enough to tell "over").
    const std::size_t cap = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
    std::size_t room = S_ISREG(st.st_mode) && st.st_size > 0
                           ? std::min(static_cast<std::size_t>(st.st_size) + 1, cap)
                           : std::min<std::size_t>(65536, cap);
    std::string out(room, '\0');
    std::size_t len = 0;
    for (;;) {
        // Doubling, but never past the limit's first byte over.
        if (len == out.size()) out.resize(std::min(out.size() + std::max<std::size_t>(out.size(), 65536), cap));
        ssize_t n = ::read(f.fd, out.data() + len, out.size() - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(ErrorKind::NoInput, "cannot read " + path.string() + ": " + std::strerror(errno));
        if (n == 0) break;
        len += static_cast<std::size_t>(n);
        if (len > max_bytes && over == OverLimit::KeepHead) break;
        if (len > max_bytes)
            fail(ErrorKind::Input, path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.resize(len);
    if (out.capacity() - len > 65536) out.shrink_to_fit();  // a pipe's or an empty file's spare room
    return out;
}

}  // namespace

std::optional<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
    return read_bounded(path, max_bytes, OverLimit::Fail);
}

std::optional<std::string> read_file_head(const std::filesystem::path& path, std::size_t max_bytes) {
    return read_bounded(path, max_bytes, OverLimit::KeepHead);
}

void ensure_directory(const std::filesystem::path& dir, mode_t mode) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return;
    std::filesystem::create_directories(dir, ec);
    if (ec) fail(ErrorKind::Config, "cannot create directory " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), mode);
}

}  // namespace sealpost
