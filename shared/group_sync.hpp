// group_sync.hpp: how AtomicFileGroup::commit makes its temporaries durable
// (issue 14: the webhook's batch of new certificates, group commit).
//
// One fsync per file costs one flush of the disk's cache each (the journal
// commits coalesce, the flushes do not; on ext4 without a journal nothing
// coalesces). One syncfs() writes back every dirty file of the filesystem
// and flushes once, but it also waits for whatever *other* programs left
// dirty there (a build writing hundreds of MB would hold the webhook's
// reply). So syncfs is chosen only when it is complete and cheap:
//   - the group has at least kMinFilesForSyncfs files, all on one
//     filesystem (one st_dev: two filesystems cloned from one image share
//     their statfs f_fsid, never their device);
//   - that filesystem is a local one whose write-back syncfs completes
//     (ext2/3/4, XFS, Btrfs; tmpfs: nothing to flush). Network, FUSE and
//     overlay filesystems keep one fsync per file: their syncfs need not
//     reach the server or the upper layer;
//   - the kernel reports write-back errors through syncfs (Linux >= 5.8;
//     before, a failed write-back went unreported: the acknowledgement
//     would be a lie);
//   - the kernel holds little dirty data (Dirty + Writeback in
//     /proc/meminfo at most kMaxForeignDirty): what syncfs waits for is
//     then ours plus at most that.
// After the syncfs one temporary is fsynced too: ext4 without a journal
// (and the ext2 driver) may write inode blocks after syncfs's cache flush,
// so a second flush is what makes every size and extent durable; the
// inode is clean by then, so it costs that flush alone. Otherwise every
// file is fsynced (after write-back of all of them was started, so the
// writes overlap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sealpost {

enum class GroupSync { FsyncEach, Syncfs };

constexpr std::size_t kMinFilesForSyncfs = 4;
constexpr std::uint64_t kMaxForeignDirty = 16ull << 20;

// What the choice depends on besides the number of files; each nullopt
// when it could not be found out.
struct GroupSyncFacts {
    std::optional<long> filesystem_type;  // statfs f_type, nullopt: more than one filesystem
    bool syncfs_reports_errors = false;   // the running kernel's syncfs returns write-back errors
    std::optional<std::uint64_t> dirty_bytes;
};

// The filesystem types (statfs f_type) whose syncfs writes back every
// file and inode it has (the flush: see above).
bool syncfs_is_complete_on(long fs_type);

// The choice, from the facts (a pure function: tested on its own).
GroupSync choose_group_sync(std::size_t files, const GroupSyncFacts& facts);

// Whether a kernel of this release (uname -r: "6.1.0-18-amd64") returns
// write-back errors from syncfs (5.8 or later); false when unreadable.
bool syncfs_reports_errors(std::string_view kernel_release);

// The same for the running kernel (asked once).
bool running_kernel_syncfs_reports_errors();

// Dirty + Writeback from /proc/meminfo's text, in bytes; nullopt when
// either line is missing or not "<digits> kB".
std::optional<std::uint64_t> dirty_bytes_from_meminfo(std::string_view meminfo);

// The same, read from /proc/meminfo now.
std::optional<std::uint64_t> system_dirty_bytes();

}  // namespace sealpost
