// log_level_test.cpp: a line no sink writes is not formatted (issue 14: the
// collector's per-message lines under `-q` were 16 % of serve's CPU), and
// every line some sink wants still reaches it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "log.hpp"

using namespace sealpost;
namespace fs = std::filesystem;

namespace {

struct Counted {
    int* formatted;
};

}  // namespace

template <>
struct fmt::formatter<Counted> : fmt::formatter<std::string_view> {
    auto format(const Counted& c, fmt::format_context& ctx) const {
        ++*c.formatted;
        return fmt::formatter<std::string_view>::format("counted", ctx);
    }
};

namespace {

class LogLevelTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("sealpost-log-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        setup_logging(LogOptions{});
        fs::remove_all(dir_);
    }
    // Stderr quiet (warnings only), and a log file at `file_level` unless empty.
    void quiet_with_file(const std::string& file_level) {
        LogOptions o;
        o.quiet = true;
        if (!file_level.empty()) {
            o.file = (dir_ / "sealpost.log").string();
            o.level = file_level;
        }
        setup_logging(o);
    }
    std::string file_text() {
        log()->flush();
        std::string all;
        for (const auto& e : fs::directory_iterator(dir_)) {
            std::ifstream in(e.path());
            std::stringstream ss;
            ss << in.rdbuf();
            all += ss.str();
        }
        return all;
    }
    fs::path dir_;
};

TEST_F(LogLevelTest, QuietWithoutAFileFormatsNoInfoLine) {
    quiet_with_file("");
    EXPECT_FALSE(log_wants(spdlog::level::info));
    EXPECT_TRUE(log_wants(spdlog::level::warn));
    int formatted = 0;
    Trace t("opening");
    t.info("{}", Counted{&formatted});
    t.debug("{}", Counted{&formatted});
    EXPECT_EQ(formatted, 0);
    t.warn("{}", Counted{&formatted});
    EXPECT_EQ(formatted, 1);
}

TEST_F(LogLevelTest, TheFileGetsItsLevelEvenWhenStderrIsQuiet) {
    quiet_with_file("debug");
    EXPECT_TRUE(log_wants(spdlog::level::debug));
    EXPECT_FALSE(log_wants(spdlog::level::trace));
    int formatted = 0;
    Trace t("opening line");
    t.debug("a debug line {}", Counted{&formatted});
    t.info("an info line");
    EXPECT_EQ(formatted, 1);
    std::string text = file_text();
    EXPECT_NE(text.find(t.id() + ": opening line"), std::string::npos) << text;
    EXPECT_NE(text.find(t.id() + ": | a debug line counted"), std::string::npos) << text;
    EXPECT_NE(text.find(t.id() + ": | an info line"), std::string::npos) << text;
}

TEST_F(LogLevelTest, AFileAtWarnAndQuietStderrDropInfo) {
    quiet_with_file("warn");
    EXPECT_FALSE(log_wants(spdlog::level::info));
    Trace t("not written");
    t.warn("written");
    std::string text = file_text();
    EXPECT_EQ(text.find("not written"), std::string::npos) << text;
    EXPECT_NE(text.find("| written"), std::string::npos) << text;
}

}  // namespace
