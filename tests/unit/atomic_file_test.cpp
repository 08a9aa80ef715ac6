// atomic_file_test.cpp: temporaries never reach a pickup scanner, and what a
// crashed writer left behind is removed at start, never a live writer's file.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <optional>

#include "atomic_file.hpp"
#include "errors.hpp"

using namespace sealpost;
namespace fs = std::filesystem;

namespace {

class AtomicFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("sealpost-atomic-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path touch(const fs::path& p, std::chrono::seconds age) {
        fs::create_directories(p.parent_path());
        std::ofstream(p) << "partial";
        fs::last_write_time(p, fs::file_time_type::clock::now() - age);
        return p;
    }

    static pid_t dead_pid() {
        pid_t pid = ::fork();
        if (pid == 0) ::_exit(0);
        ::waitpid(pid, nullptr, 0);
        return pid;
    }

    fs::path dir_;
};

}  // namespace

TEST_F(AtomicFileTest, StaleTemporariesOfDeadWritersAreRemovedAndNothingElse) {
    using std::chrono::seconds;
    std::string dead = std::to_string(dead_pid()), self = std::to_string(::getpid());
    auto old_dead = touch(dir_ / (".a.eml.tmp." + dead + ".0"), seconds(600));
    auto old_dead_sub = touch(dir_ / ".tmp" / (".b.eml.tmp." + dead + ".1"), seconds(600));
    auto fresh_dead = touch(dir_ / (".c.eml.tmp." + dead + ".2"), seconds(1));
    auto live = touch(dir_ / (".d.eml.tmp." + self + ".3"), seconds(600));
    auto ancient_live = touch(dir_ / (".e.eml.tmp." + self + ".4"), seconds(3 * 86400));
    auto message = touch(dir_ / "20261126-1-1.eml", seconds(600));
    auto dotfile = touch(dir_ / ".webhook-batch-ids", seconds(600));
    auto lookalike = touch(dir_ / ".x.tmp.notapid.1", seconds(600));

    EXPECT_EQ(remove_stale_temporaries(dir_, ".tmp"), 3u);
    EXPECT_FALSE(fs::exists(old_dead));
    EXPECT_FALSE(fs::exists(old_dead_sub));
    EXPECT_FALSE(fs::exists(ancient_live));
    EXPECT_TRUE(fs::exists(fresh_dead)) << "a writer may still be between fork and write";
    EXPECT_TRUE(fs::exists(live)) << "a live writer's temporary";
    EXPECT_TRUE(fs::exists(message));
    EXPECT_TRUE(fs::exists(dotfile));
    EXPECT_TRUE(fs::exists(lookalike));
}

TEST_F(AtomicFileTest, WithATmpSubdirTheTargetDirectoryOnlyEverHoldsWholeFiles) {
    write_file_atomic(dir_, "one.eml", "whole\r\n", true, 0640, true, ".tmp");
    // A rename that fails (the target is a non-empty directory) leaves no
    // partial file where a scanner looks.
    fs::create_directories(dir_ / "two.eml" / "x");
    EXPECT_THROW(write_file_atomic(dir_, "two.eml", "never seen\r\n", true, 0640, true, ".tmp"), Error);
    std::vector<std::string> top;
    for (const auto& e : fs::directory_iterator(dir_)) top.push_back(e.path().filename().string());
    std::sort(top.begin(), top.end());
    EXPECT_EQ(top, (std::vector<std::string>{".tmp", "one.eml", "two.eml"}));
    EXPECT_TRUE(fs::is_empty(dir_ / ".tmp"));
    std::ifstream in(dir_ / "one.eml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "whole\r\n");
}

// Group commit: nothing staged is visible under its name before commit();
// after it every file is whole; abandoned, the temporaries are gone.
TEST_F(AtomicFileTest, AGroupShowsNothingBeforeCommitAndEverythingAfter) {
    fs::create_directories(dir_ / "sub");
    {
        AtomicFileGroup g;
        g.stage(dir_, "a.crt", "AAAA", 1);
        g.stage(dir_ / "sub", "h.crt", "HHHH", 0);
        g.stage(dir_, "a.crt", "AAAA-2", 1);  // the same name twice: the later wins
        g.remove_after_commit(dir_ / "gone");
        { std::ofstream(dir_ / "gone") << "x"; }
        EXPECT_EQ(g.staged(), 3u);
        EXPECT_FALSE(fs::exists(dir_ / "a.crt"));
        EXPECT_FALSE(fs::exists(dir_ / "sub" / "h.crt"));
        g.commit();
        EXPECT_EQ(g.staged(), 0u);
    }
    EXPECT_EQ(*read_file(dir_ / "a.crt"), "AAAA-2");
    EXPECT_EQ(*read_file(dir_ / "sub" / "h.crt"), "HHHH");
    EXPECT_FALSE(fs::exists(dir_ / "gone"));
    for (const auto& e : fs::recursive_directory_iterator(dir_))
        EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

TEST_F(AtomicFileTest, ATwoFileGroupIsFsyncedFileByFile) {
    AtomicFileGroup g;
    g.stage(dir_, "a.crt", "A", 1);
    g.stage(dir_, "a.json", "{}", 1);
    g.commit();
    EXPECT_EQ(g.sync_used(), GroupSync::FsyncEach);
    EXPECT_EQ(*read_file(dir_ / "a.crt"), "A");
    EXPECT_EQ(*read_file(dir_ / "a.json"), "{}");
}

// A webhook batch's shape: ten certificates, two files each, a history copy;
// every file whole after commit, whichever way it was made durable, and
// never by syncfs on a filesystem where syncfs is not complete (which way
// is chosen is GroupSyncTest's).
TEST_F(AtomicFileTest, ABatchOfTwentyOneFilesIsWholeAfterCommit) {
    fs::create_directories(dir_ / "history");
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

TEST_F(AtomicFileTest, AnAbandonedGroupLeavesNoTrace) {
    {
        AtomicFileGroup g;
        g.stage(dir_, "a.crt", "AAAA");
        g.stage(dir_, "b.crt", "BBBB");
    }
    EXPECT_TRUE(fs::is_empty(dir_));
}

// A writer killed at any point of a group (kill -9, no destructor) leaves
// every name either absent or whole: only dot-temporaries can be partial.
TEST_F(AtomicFileTest, AGroupWriterKilledAtAnyPointLeavesNoTornFile) {
    const std::string big(256 * 1024, 'x');
    for (int round = 0; round < 20; ++round) {
        fs::path d = dir_ / std::to_string(round);
        fs::create_directories(d);
        pid_t pid = ::fork();
        if (pid == 0) {
            for (;;) {
                AtomicFileGroup g;
                for (int i = 0; i < 20; ++i) g.stage(d, "f" + std::to_string(i), big + std::to_string(i), i % 2);
                g.commit();
            }
        }
        ::usleep(static_cast<useconds_t>(2000 + round * 3000));
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        for (const auto& e : fs::directory_iterator(d)) {
            std::string name = e.path().filename().string();
            if (name.front() == '.') continue;  // a temporary
            std::string want = big + name.substr(1);
            EXPECT_EQ(*read_file(e.path()), want) << e.path();
        }
    }
}

TEST_F(AtomicFileTest, PiecesAreWrittenInOrderAsOneFile) {
    // The outbox's writev: envelope lines and message, empty pieces skipped,
    // and more pieces than one writev takes (IOV_MAX).
    std::vector<std::string> owned;
    for (int i = 0; i < 2000; ++i) owned.push_back(i % 7 == 0 ? "" : "piece " + std::to_string(i) + "\r\n");
    owned.push_back(std::string(3 << 20, 'm'));  // a large last piece
    std::vector<std::string_view> pieces(owned.begin(), owned.end());
    write_file_atomic(dir_, "joined.eml", pieces, true, 0640, true, ".tmp");
    std::string expected;
    for (const auto& p : owned) expected += p;
    std::ifstream in(dir_ / "joined.eml", std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected);
    EXPECT_TRUE(fs::is_empty(dir_ / ".tmp"));
}

TEST_F(AtomicFileTest, AFileIsReadWholeAndExactlyWhateverItsSize) {
    // read_file reads a regular file straight into a buffer of its size;
    // every byte value, sizes around the old 64 KiB bounce buffer and well
    // past it, and the empty file come back exact.
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536},
                             std::size_t{65537}, std::size_t{3} << 20}) {
        std::string content(size, '\0');
        for (std::size_t i = 0; i < size; ++i) content[i] = static_cast<char>((i * 131 + size) & 0xFF);
        std::ofstream(dir_ / "in.bin", std::ios::binary) << content;
        auto got = read_file(dir_ / "in.bin");
        ASSERT_TRUE(got.has_value()) << size;
        EXPECT_EQ(got->size(), size);
        EXPECT_TRUE(*got == content) << size;
    }
}

TEST_F(AtomicFileTest, AFileOverTheLimitIsRefusedAndOneAtTheLimitIsRead) {
    std::ofstream(dir_ / "in.bin", std::ios::binary) << std::string(1000, 'x');
    EXPECT_EQ(read_file(dir_ / "in.bin", 1000)->size(), 1000u);
    try {
        read_file(dir_ / "in.bin", 999);
        FAIL() << "a 1000-byte file read under a 999-byte limit";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Input);
        EXPECT_NE(std::string(e.what()).find("larger than 999 bytes"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(read_file(dir_ / "missing.bin").has_value());
}

TEST_F(AtomicFileTest, AHeadReadGivesTheFileToTheLimitAndOneByteMoreWhenOver) {
    std::ofstream(dir_ / "in.bin", std::ios::binary) << std::string(999, 'x') << 'y';
    EXPECT_EQ(*read_file_head(dir_ / "in.bin", 1000), std::string(999, 'x') + "y");
    EXPECT_EQ(read_file_head(dir_ / "in.bin", 999)->size(), 1000u) << "one byte over: enough to tell";
    EXPECT_EQ(*read_file_head(dir_ / "in.bin", 10), std::string(11, '\0')) << "far over: not read at all";
    EXPECT_FALSE(read_file_head(dir_ / "missing.bin", 10).has_value());
    try {
        read_file_head(dir_, 10);
        FAIL() << "a directory was read";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NoInput);
    }
}

TEST_F(AtomicFileTest, AHeadReadRefusesAFifoAndADeviceWithoutWaitingForAWriter) {
    fs::path fifo = dir_ / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto outcome = std::async(std::launch::async, [&fifo] {
        try {
            read_file_head(fifo, 10);
            return std::string("read");
        } catch (const Error& e) {
            return std::string(e.what());
        }
    });
    if (outcome.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
        int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // lets the blocked open return
        if (writer >= 0) ::close(writer);
        outcome.wait();
        FAIL() << "opening a FIFO waited for a writer";
    }
    EXPECT_NE(outcome.get().find("not a regular file"), std::string::npos);
    try {
        read_file_head("/dev/zero", 10);
        FAIL() << "a device was read";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NoInput);
        EXPECT_NE(std::string(e.what()).find("/dev/zero: not a regular file"), std::string::npos) << e.what();
    }
}

TEST_F(AtomicFileTest, APipeOfUnknownSizeIsReadToItsEnd) {
    // No size to go by: the buffer grows as the bytes come.
    fs::path fifo = dir_ / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string content;
    for (int i = 0; i < 40000; ++i) content += "line " + std::to_string(i) + "\n";
    pid_t pid = ::fork();
    if (pid == 0) {
        std::ofstream(fifo, std::ios::binary) << content;
        ::_exit(0);
    }
    std::optional<std::string> got;
    try {
        got = read_file(fifo);
    } catch (const std::exception& e) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        FAIL() << e.what();
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->size(), content.size());
    EXPECT_TRUE(*got == content);
}

TEST_F(AtomicFileTest, TheTemporariesDirectoryIsMadeAgainWhenItWasRemoved) {
    // The .tmp directory is made on first use, not checked before every
    // file: one removed between two writes must be made again.
    write_file_atomic(dir_, "one.eml", std::string_view("first"), false, 0640, false, ".tmp");
    fs::remove_all(dir_ / ".tmp");
    write_file_atomic(dir_, "two.eml", std::string_view("second"), false, 0640, false, ".tmp");
    EXPECT_EQ(*read_file(dir_ / "one.eml"), "first");
    EXPECT_EQ(*read_file(dir_ / "two.eml"), "second");
    EXPECT_TRUE(fs::is_directory(dir_ / ".tmp"));
    EXPECT_TRUE(fs::is_empty(dir_ / ".tmp"));
}
