// group_sync.cpp: fsync each, or one syncfs (see the header).
#include "group_sync.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <unistd.h>

#include <charconv>
#include <string>

namespace sealpost {
namespace {

// "Dirty:   1234 kB" -> 1234 * 1024
std::optional<std::uint64_t> meminfo_kb_line(std::string_view text, std::string_view name) {
    for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\n', at);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(at, end - at);
        at = end + 1;
        if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != ':') continue;
        std::size_t digits = line.find_first_of("0123456789", name.size());
        if (digits == std::string_view::npos) return std::nullopt;
        std::uint64_t kb = 0;
        auto [p, ec] = std::from_chars(line.data() + digits, line.data() + line.size(), kb);
        if (ec != std::errc()) return std::nullopt;
        return kb * 1024;
    }
    return std::nullopt;
}

}  // namespace

bool syncfs_is_complete_on(long fs_type) {
    switch (fs_type) {
        case EXT4_SUPER_MAGIC:  // also ext2 and ext3
        case XFS_SUPER_MAGIC:
        case BTRFS_SUPER_MAGIC:
        case TMPFS_MAGIC:
            return true;
        default:
            return false;
    }
}

GroupSync choose_group_sync(std::size_t files, std::optional<long> same_filesystem_type,
                            std::optional<std::uint64_t> dirty_bytes) {
    if (files < kMinFilesForSyncfs || !same_filesystem_type || !syncfs_is_complete_on(*same_filesystem_type))
        return GroupSync::FsyncEach;
    if (!dirty_bytes || *dirty_bytes > kMaxForeignDirty) return GroupSync::FsyncEach;
    return GroupSync::Syncfs;
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
