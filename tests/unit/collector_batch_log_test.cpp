// collector_batch_log_test.cpp: the remembered X-MessageSystems-Batch-ID
// values: claim once, bounded to the newest `capacity`, persisted across
// instances (a restart), a torn last line (a crash mid-append) ignored and
// not able to swallow the next id, invalid ids never recorded.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "batch_log.hpp"

namespace sealpost {
namespace {

namespace fs = std::filesystem;

class BatchLogTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("sealpost-batchlog-" + std::to_string(::getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
        file = dir / ".webhook-batch-ids";
    }
    void TearDown() override { fs::remove_all(dir); }

    std::string contents() const {
        std::ifstream in(file, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        std::istringstream in(contents());
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    }
    void write(const std::string& text) const { std::ofstream(file, std::ios::binary) << text; }

    fs::path dir, file;
};

// What a fully processed batch does: claim, and when the claim is ours,
// commit. True when the id had been committed before.
bool seen_or_record(BatchLog& log, const std::string& id) {
    auto c = log.claim(id);
    if (c != BatchLog::Claim::Mine) return true;
    log.commit(id);
    return false;
}

TEST_F(BatchLogTest, AnIdIsClaimedOnceAndSeenAfterwards) {
    BatchLog log(file);
    EXPECT_FALSE(seen_or_record(log, "b-1"));
    EXPECT_TRUE(seen_or_record(log, "b-1"));
    EXPECT_TRUE(seen_or_record(log, "b-1"));
    EXPECT_FALSE(seen_or_record(log, "b-2"));
    EXPECT_EQ(log.size(), 2u);
    EXPECT_EQ(contents(), "b-1\nb-2\n");
}

TEST_F(BatchLogTest, AMissingFileIsAnEmptyLog) {
    BatchLog log(file);
    EXPECT_EQ(log.size(), 0u);
    EXPECT_FALSE(fs::exists(file)) << "nothing is written until an id is claimed";
}

TEST_F(BatchLogTest, IdsArePersistedAcrossInstances) {
    {
        BatchLog log(file);
        seen_or_record(log, "first");
        seen_or_record(log, "second");
    }
    BatchLog again(file);
    EXPECT_EQ(again.size(), 2u);
    EXPECT_TRUE(seen_or_record(again, "first"));
    EXPECT_TRUE(seen_or_record(again, "second"));
    EXPECT_FALSE(seen_or_record(again, "third"));
}

TEST_F(BatchLogTest, OnlyTheNewestCapacityIdsAreKept) {
    BatchLog log(file, 3);
    for (const char* id : {"a", "b", "c", "d", "e"}) EXPECT_FALSE(seen_or_record(log, id)) << id;
    EXPECT_EQ(log.size(), 3u);
    EXPECT_TRUE(seen_or_record(log, "c"));
    EXPECT_TRUE(seen_or_record(log, "e"));
    EXPECT_FALSE(seen_or_record(log, "a")) << "the oldest ids are forgotten";
}

TEST_F(BatchLogTest, TheFileIsCompactedAndStaysBounded) {
    BatchLog log(file, 4);
    for (int i = 0; i < 100; ++i) seen_or_record(log, "id-" + std::to_string(i));
    EXPECT_LE(lines().size(), 2u * 4u + 1u);
    BatchLog again(file, 4);
    EXPECT_EQ(again.size(), 4u);
    for (int i = 96; i < 100; ++i) EXPECT_TRUE(seen_or_record(again, "id-" + std::to_string(i))) << i;
    EXPECT_FALSE(seen_or_record(again, "id-95"));
    // No temporary files are left beside it.
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{".webhook-batch-ids"});
}

TEST_F(BatchLogTest, ALargerFileThanTheCapacityKeepsTheNewestIds) {
    write("a\nb\nc\nd\n");
    BatchLog log(file, 2);
    EXPECT_EQ(log.size(), 2u);
    EXPECT_TRUE(seen_or_record(log, "d"));
    EXPECT_TRUE(seen_or_record(log, "c"));
    EXPECT_FALSE(seen_or_record(log, "a"));
}

TEST_F(BatchLogTest, ATornLastLineIsIgnored) {
    write("b-1\nb-2\nb-3-torn");
    BatchLog log(file);
    EXPECT_EQ(log.size(), 2u);
    EXPECT_TRUE(seen_or_record(log, "b-1"));
    EXPECT_TRUE(seen_or_record(log, "b-2"));
    EXPECT_FALSE(seen_or_record(log, "b-3-torn")) << "a half-written id was never acknowledged";
}

TEST_F(BatchLogTest, AnIdClaimedAfterATornLineSurvivesARestart) {
    // A crash mid-append left "b-2" without its newline. The next id must
    // not be glued to it on disk, or it would be forgotten at the next start.
    write("b-1\nb-2");
    {
        BatchLog log(file);
        EXPECT_FALSE(seen_or_record(log, "b-9"));
    }
    BatchLog again(file);
    EXPECT_TRUE(seen_or_record(again, "b-9"));
    EXPECT_TRUE(seen_or_record(again, "b-1"));
    EXPECT_FALSE(seen_or_record(again, "b-2b-9"));
}

TEST_F(BatchLogTest, InvalidIdsAreNeverValid) {
    EXPECT_TRUE(BatchLog::valid_id("b"));
    EXPECT_TRUE(BatchLog::valid_id("0f3c2a6e-7d1b-4c55-9a0e-2f1d3c4b5a69"));
    EXPECT_TRUE(BatchLog::valid_id(std::string(128, 'x')));
    EXPECT_FALSE(BatchLog::valid_id(""));
    EXPECT_FALSE(BatchLog::valid_id(std::string(129, 'x')));
    EXPECT_FALSE(BatchLog::valid_id("has space"));
    EXPECT_FALSE(BatchLog::valid_id("tab\there"));
    EXPECT_FALSE(BatchLog::valid_id("new\nline"));
    EXPECT_FALSE(BatchLog::valid_id("cr\r"));
    EXPECT_FALSE(BatchLog::valid_id(std::string("nul\0x", 5)));
    EXPECT_FALSE(BatchLog::valid_id("del\x7f"));
    EXPECT_FALSE(BatchLog::valid_id("caf\xc3\xa9"));
}

TEST_F(BatchLogTest, InvalidLinesInTheFileAreSkipped) {
    write("good-1\n\nwith space\n" + std::string(200, 'y') + "\ngood-2\n");
    BatchLog log(file);
    EXPECT_EQ(log.size(), 2u);
    EXPECT_TRUE(seen_or_record(log, "good-1"));
    EXPECT_TRUE(seen_or_record(log, "good-2"));
}

TEST_F(BatchLogTest, AReleasedIdCanBeClaimedAgainAlsoAfterARestart) {
    {
        BatchLog log(file);
        seen_or_record(log, "keep");
        EXPECT_EQ(log.claim("failed"), BatchLog::Claim::Mine);
        log.release("failed");
        EXPECT_EQ(log.claim("failed"), BatchLog::Claim::Mine) << "released: claimable again at once";
        log.release("failed");
        EXPECT_EQ(log.size(), 1u);
        log.release("never-claimed");  // harmless
    }
    BatchLog again(file);
    EXPECT_TRUE(seen_or_record(again, "keep"));
    EXPECT_FALSE(seen_or_record(again, "failed"));
}

// The crash in the middle of a batch: the id was claimed, processing never
// finished. Nothing about it may be on disk, so the redelivery is processed.
TEST_F(BatchLogTest, AClaimIsNotRecordedUntilCommittedSoACrashLeavesItProcessable) {
    {
        BatchLog log(file);
        EXPECT_EQ(log.claim("big-batch"), BatchLog::Claim::Mine);
        EXPECT_EQ(contents(), "") << "claiming writes nothing";
        // the process dies here (no commit, no release)
    }
    BatchLog after_restart(file);
    EXPECT_EQ(after_restart.claim("big-batch"), BatchLog::Claim::Mine);
    after_restart.commit("big-batch");
    EXPECT_EQ(lines(), std::vector<std::string>{"big-batch"});
    BatchLog later(file);
    EXPECT_EQ(later.claim("big-batch"), BatchLog::Claim::Done);
}

TEST_F(BatchLogTest, ABatchBeingProcessedIsBusyForAConcurrentRedelivery) {
    BatchLog log(file);
    EXPECT_EQ(log.claim("b"), BatchLog::Claim::Mine);
    EXPECT_EQ(log.claim("b"), BatchLog::Claim::Busy);
    log.commit("b");
    EXPECT_EQ(log.claim("b"), BatchLog::Claim::Done);
}

}  // namespace
}  // namespace sealpost
