// group_sync_test.cpp: when a group commit uses one syncfs instead of one
// fsync per file (that a committed group is whole either way:
// atomic_file_test.cpp).
#include <gtest/gtest.h>
#include <linux/magic.h>

#include "group_sync.hpp"

using namespace sealpost;

namespace {

constexpr long kNfs = 0x6969;        // NFS_SUPER_MAGIC
constexpr long kFuse = 0x65735546;   // FUSE_SUPER_MAGIC
constexpr std::uint64_t kMiB = 1u << 20;

GroupSyncFacts facts(std::optional<long> type, std::optional<std::uint64_t> dirty, bool reports = true) {
    return GroupSyncFacts{type, reports, dirty};
}

TEST(GroupSyncTest, SyncfsOnlyForAGroupOfSeveralFilesOnOneLocalFilesystemWithLittleElseDirty) {
    EXPECT_EQ(choose_group_sync(20, facts(EXT4_SUPER_MAGIC, 1 * kMiB)), GroupSync::Syncfs);
    EXPECT_EQ(choose_group_sync(kMinFilesForSyncfs, facts(XFS_SUPER_MAGIC, 0)), GroupSync::Syncfs);
    EXPECT_EQ(choose_group_sync(4, facts(BTRFS_SUPER_MAGIC, kMaxForeignDirty)), GroupSync::Syncfs);
    EXPECT_EQ(choose_group_sync(4, facts(TMPFS_MAGIC, 0)), GroupSync::Syncfs);
    // A small group: one fsync each costs no more.
    EXPECT_EQ(choose_group_sync(kMinFilesForSyncfs - 1, facts(EXT4_SUPER_MAGIC, 0)), GroupSync::FsyncEach);
    // Files on two filesystems: one syncfs would not reach both.
    EXPECT_EQ(choose_group_sync(20, facts(std::nullopt, 0)), GroupSync::FsyncEach);
    // Network, FUSE and overlay filesystems: their syncfs need not reach the
    // server or the upper layer.
    EXPECT_EQ(choose_group_sync(20, facts(kNfs, 0)), GroupSync::FsyncEach);
    EXPECT_EQ(choose_group_sync(20, facts(kFuse, 0)), GroupSync::FsyncEach);
    EXPECT_EQ(choose_group_sync(20, facts(OVERLAYFS_SUPER_MAGIC, 0)), GroupSync::FsyncEach);
    // Others' dirty data syncfs would wait for, or not known.
    EXPECT_EQ(choose_group_sync(20, facts(EXT4_SUPER_MAGIC, kMaxForeignDirty + 1)), GroupSync::FsyncEach);
    EXPECT_EQ(choose_group_sync(20, facts(EXT4_SUPER_MAGIC, std::nullopt)), GroupSync::FsyncEach);
    // A kernel whose syncfs does not return write-back errors (before 5.8).
    EXPECT_EQ(choose_group_sync(20, facts(EXT4_SUPER_MAGIC, 0, false)), GroupSync::FsyncEach);
}

TEST(GroupSyncTest, SyncfsReportsWritebackErrorsFromLinux58On) {
    EXPECT_TRUE(syncfs_reports_errors("5.8.0"));
    EXPECT_TRUE(syncfs_reports_errors("6.1.0-18-amd64"));
    EXPECT_TRUE(syncfs_reports_errors("5.10.0-cloud"));
    EXPECT_TRUE(syncfs_reports_errors("10.0"));
    EXPECT_FALSE(syncfs_reports_errors("5.7.19"));
    EXPECT_FALSE(syncfs_reports_errors("4.18.0-553.el8_10.x86_64"));
    EXPECT_FALSE(syncfs_reports_errors("3.10.0"));
    EXPECT_FALSE(syncfs_reports_errors(""));
    EXPECT_FALSE(syncfs_reports_errors("6"));
    EXPECT_FALSE(syncfs_reports_errors("six.one"));
}

TEST(GroupSyncTest, DirtyBytesAreDirtyPlusWritebackFromMeminfo) {
    const std::string meminfo =
        "MemTotal:       24576000 kB\n"
        "WritebackTmp:       999 kB\n"  // not Writeback
        "Dirty:              120 kB\n"
        "Writeback:            8 kB\n"
        "AnonPages:       123456 kB\n";
    EXPECT_EQ(dirty_bytes_from_meminfo(meminfo), (120u + 8u) * 1024u);
    EXPECT_EQ(dirty_bytes_from_meminfo("MemTotal: 1 kB\nDirty: 5 kB\n"), std::nullopt);
    EXPECT_EQ(dirty_bytes_from_meminfo("Dirty: kB\nWriteback: 1 kB\n"), std::nullopt);
    EXPECT_EQ(dirty_bytes_from_meminfo(""), std::nullopt);
    EXPECT_TRUE(system_dirty_bytes().has_value()) << "/proc/meminfo unreadable";
}

// What is not "<digits> kB" is not read as a small number (a small number
// would choose syncfs).
TEST(GroupSyncTest, AMeminfoValueOfAnotherShapeOrTooLargeIsUnknown) {
    auto with_dirty = [](const std::string& v) { return "Dirty: " + v + "\nWriteback: 0 kB\n"; };
    EXPECT_EQ(dirty_bytes_from_meminfo(with_dirty("18446744073709551615 kB")), std::nullopt);
    EXPECT_EQ(dirty_bytes_from_meminfo(with_dirty("9007199254740993 kB")), std::nullopt);
    EXPECT_EQ(dirty_bytes_from_meminfo(with_dirty("99999999999999999999999 kB")), std::nullopt);
    EXPECT_EQ(dirty_bytes_from_meminfo(with_dirty("-5 kB")), std::nullopt);
    EXPECT_EQ(dirty_bytes_from_meminfo(with_dirty("x7 kB")), std::nullopt);
    EXPECT_EQ(dirty_bytes_from_meminfo(with_dirty("7 MB")), std::nullopt);
    EXPECT_EQ(dirty_bytes_from_meminfo(with_dirty("7")), std::nullopt);
    EXPECT_EQ(dirty_bytes_from_meminfo(with_dirty("7 kB")), 7u * 1024u);
}

}  // namespace
