// group_sync_test.cpp: when a group commit uses one syncfs instead of one
// fsync per file, and that a committed group is whole either way.
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>

#include "atomic_file.hpp"
#include "group_sync.hpp"

using namespace sealpost;
namespace fs = std::filesystem;

namespace {

constexpr long kNfs = 0x6969;        // NFS_SUPER_MAGIC
constexpr long kFuse = 0x65735546;   // FUSE_SUPER_MAGIC
constexpr std::uint64_t kMiB = 1u << 20;

TEST(GroupSyncTest, SyncfsOnlyForAGroupOfSeveralFilesOnOneLocalFilesystemWithLittleElseDirty) {
    EXPECT_EQ(choose_group_sync(20, EXT4_SUPER_MAGIC, 1 * kMiB), GroupSync::Syncfs);
    EXPECT_EQ(choose_group_sync(kMinFilesForSyncfs, XFS_SUPER_MAGIC, 0), GroupSync::Syncfs);
    EXPECT_EQ(choose_group_sync(4, BTRFS_SUPER_MAGIC, kMaxForeignDirty), GroupSync::Syncfs);
    EXPECT_EQ(choose_group_sync(4, TMPFS_MAGIC, 0), GroupSync::Syncfs);
    // A small group: one fsync each costs no more.
    EXPECT_EQ(choose_group_sync(kMinFilesForSyncfs - 1, EXT4_SUPER_MAGIC, 0), GroupSync::FsyncEach);
    // Files on two filesystems: one syncfs would not reach both.
    EXPECT_EQ(choose_group_sync(20, std::nullopt, 0), GroupSync::FsyncEach);
    // Network and FUSE filesystems: their syncfs need not reach the server.
    EXPECT_EQ(choose_group_sync(20, kNfs, 0), GroupSync::FsyncEach);
    EXPECT_EQ(choose_group_sync(20, kFuse, 0), GroupSync::FsyncEach);
    // Others' dirty data syncfs would wait for, or not known.
    EXPECT_EQ(choose_group_sync(20, EXT4_SUPER_MAGIC, kMaxForeignDirty + 1), GroupSync::FsyncEach);
    EXPECT_EQ(choose_group_sync(20, EXT4_SUPER_MAGIC, std::nullopt), GroupSync::FsyncEach);
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

class GroupCommitTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("sealpost-groupsync-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "history");
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(GroupCommitTest, ATwoFileGroupIsFsyncedFileByFile) {
    AtomicFileGroup g;
    g.stage(dir_, "a.crt", "A", 1);
    g.stage(dir_, "a.json", "{}", 1);
    g.commit();
    EXPECT_EQ(g.sync_used(), GroupSync::FsyncEach);
    EXPECT_EQ(*read_file(dir_ / "a.crt"), "A");
    EXPECT_EQ(*read_file(dir_ / "a.json"), "{}");
}

// A webhook batch's shape: ten certificates, two files each, a history copy;
// every file whole after commit, whichever way it was made durable, and the
// way the one choose_group_sync gives for this filesystem.
TEST_F(GroupCommitTest, ABatchOfTwentyOneFilesIsWholeAfterCommit) {
    AtomicFileGroup g;
    g.stage(dir_ / "history", "old.crt", "OLD", 0);
    for (int i = 0; i < 10; ++i) {
        g.stage(dir_, "c" + std::to_string(i) + ".crt", "CERT" + std::to_string(i), 1);
        g.stage(dir_, "c" + std::to_string(i) + ".json", "META" + std::to_string(i), 1);
    }
    g.commit();
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(*read_file(dir_ / ("c" + std::to_string(i) + ".crt")), "CERT" + std::to_string(i));
        EXPECT_EQ(*read_file(dir_ / ("c" + std::to_string(i) + ".json")), "META" + std::to_string(i));
    }
    EXPECT_EQ(*read_file(dir_ / "history" / "old.crt"), "OLD");
    struct statfs st {};
    ASSERT_EQ(::statfs(dir_.c_str(), &st), 0);
    if (!syncfs_is_complete_on(static_cast<long>(st.f_type)))
        EXPECT_EQ(g.sync_used(), GroupSync::FsyncEach) << "syncfs on a filesystem where it is not complete";
    for (const auto& e : fs::recursive_directory_iterator(dir_))
        EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

}  // namespace
