// group_sync.hpp: how AtomicFileGroup::commit makes its temporaries durable
// (issue 14: the webhook's batch of new certificates, group commit).
//
// One fsync per file costs one flush of the disk's cache each (the journal
// commits coalesce, the flushes do not; on ext4 without a journal nothing
// coalesces). One syncfs() writes back every dirty file of the filesystem
// and flushes once: one flush for the whole group, but it also waits for
// whatever *other* programs left dirty there (a build writing hundreds of
// MB would hold the webhook's reply). So syncfs is chosen only when it is
// both complete and cheap:
//   - the group has at least kMinFilesForSyncfs files, all on one
//     filesystem;
//   - that filesystem is a local one whose syncfs writes back and flushes
//     what fsync would (ext2/3/4, XFS, Btrfs; tmpfs: nothing to flush).
//     Network and FUSE filesystems keep one fsync per file: their syncfs
//     need not reach the server;
//   - the kernel holds little dirty data (Dirty + Writeback in
//     /proc/meminfo under kMaxForeignDirty): what syncfs waits for is then
//     ours plus at most that.
// Otherwise every file is fsynced (after write-back of all of them was
// started, so the writes overlap). Either way, errors are reported: syncfs
// returns the filesystem's write-back errors since the file was opened
// (Linux >= 5.8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sealpost {

enum class GroupSync { FsyncEach, Syncfs };

constexpr std::size_t kMinFilesForSyncfs = 4;
constexpr std::uint64_t kMaxForeignDirty = 16ull << 20;

// The filesystem types (statfs f_type) whose syncfs is a full write-back
// and cache flush.
bool syncfs_is_complete_on(long fs_type);

// The choice, from the facts (a pure function: tested on its own).
// same_filesystem_type: the f_type all the files share, nullopt when they
// are on different filesystems; dirty_bytes: nullopt when unknown.
GroupSync choose_group_sync(std::size_t files, std::optional<long> same_filesystem_type,
                            std::optional<std::uint64_t> dirty_bytes);

// Dirty + Writeback from /proc/meminfo's text, in bytes; nullopt when
// either line is missing.
std::optional<std::uint64_t> dirty_bytes_from_meminfo(std::string_view meminfo);

// The same, read from /proc/meminfo now.
std::optional<std::uint64_t> system_dirty_bytes();

}  // namespace sealpost
