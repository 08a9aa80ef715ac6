// group_sync.cpp: fsync each, or one syncfs (see the header).
#include "group_sync.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <limits>

namespace sealpost {
namespace {

// "Dirty:   1234 kB" -> 1234 * 1024; nullopt unless exactly that shape.
std::optional<std::uint64_t> meminfo_kb_line(std::string_view text, std::string_view name) {
    for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\n', at);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(at, end - at);
        at = end + 1;
        if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != ':') continue;
        std::string_view rest = line.substr(name.size() + 1);
        std::size_t digits = rest.find_first_not_of(' ');
        if (digits == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(digits);
        std::uint64_t kb = 0;
        auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kb);
        if (ec != std::errc() || p == rest.data() || std::string_view(p, rest.data() + rest.size() - p) != " kB")
            return std::nullopt;
        if (kb > std::numeric_limits<std::uint64_t>::max() / 2048) return std::nullopt;  // the sum must not wrap
        return kb * 1024;
    }
    return std::nullopt;
}

}  // namespace

bool syncfs_is_complete_on(long fs_type) {
    switch (fs_type) {
        case EXT4_SUPER_MAGIC:  // also ext2 and ext3, and the ext2 driver (the second flush covers it)
        case XFS_SUPER_MAGIC:
        case BTRFS_SUPER_MAGIC:
        case TMPFS_MAGIC:
            return true;
        default:
            return false;
    }
}

GroupSync choose_group_sync(std::size_t files, const GroupSyncFacts& facts) {
    if (files < kMinFilesForSyncfs || !facts.syncfs_reports_errors) return GroupSync::FsyncEach;
    if (!facts.filesystem_type || !syncfs_is_complete_on(*facts.filesystem_type)) return GroupSync::FsyncEach;
    if (!facts.dirty_bytes || *facts.dirty_bytes > kMaxForeignDirty) return GroupSync::FsyncEach;
    return GroupSync::Syncfs;
}

bool syncfs_reports_errors(std::string_view release) {
    int major = 0, minor = 0;
    auto [p, ec] = std::from_chars(release.data(), release.data() + release.size(), major);
    if (ec != std::errc() || p == release.data() + release.size() || *p != '.') return false;
    auto [q, ec2] = std::from_chars(p + 1, release.data() + release.size(), minor);
    if (ec2 != std::errc() || q == p + 1) return false;
    return major > 5 || (major == 5 && minor >= 8);
}

bool running_kernel_syncfs_reports_errors() {
    static const bool reports = [] {
        struct utsname u {};
        return ::uname(&u) == 0 && syncfs_reports_errors(u.release);
    }();
    return reports;
}

std::optional<std::uint64_t> dirty_bytes_from_meminfo(std::string_view meminfo) {
    auto dirty = meminfo_kb_line(meminfo, "Dirty");
    auto writeback = meminfo_kb_line(meminfo, "Writeback");
    if (!dirty || !writeback) return std::nullopt;
    return *dirty + *writeback;
}

std::optional<std::uint64_t> system_dirty_bytes() {
    int fd = ::open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char buf[8192];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n <= 0) return std::nullopt;
    return dirty_bytes_from_meminfo(std::string_view(buf, static_cast<std::size_t>(n)));
}

}  // namespace sealpost
