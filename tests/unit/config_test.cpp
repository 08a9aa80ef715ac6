// config_test.cpp: INI loading, flags winning, unknown keys reported, sizes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config.hpp"
#include "errors.hpp"

using namespace sealpost;

namespace {
std::string write_ini(const std::string& text) {
    auto p = std::filesystem::temp_directory_path() / ("sealpost-config-test-" + std::to_string(::getpid()) + ".ini");
    std::ofstream(p) << text;
    return p.string();
}
}  // namespace

TEST(Config, FlagWinsOverFileAndUnknownKeysAreNamed) {
    auto path = write_ini("[store]\ndir = /from/file\n[sender]\nsign = opaque\nsgin = typo\n");
    Config c = Config::load(path);
    EXPECT_EQ(c.get_or("store", "dir", ""), "/from/file");
    c.set("store", "dir", "/from/flag");
    EXPECT_EQ(c.get_or("store", "dir", ""), "/from/flag");
    EXPECT_EQ(c.get_or("sender", "sign", ""), "opaque");
    ASSERT_EQ(c.warnings().size(), 1u);
    EXPECT_NE(c.warnings()[0].find("'sgin'"), std::string::npos);
    EXPECT_NE(c.warnings()[0].find(path), std::string::npos);
    EXPECT_NE(c.warnings()[0].find("[sender]"), std::string::npos);
    std::filesystem::remove(path);
}

TEST(Config, SyntaxErrorNamesTheLine) {
    auto path = write_ini("[store]\ndir = x\nthis is not ini\n");
    try {
        Config::load(path);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Config);
        EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);
}

TEST(Config, MissingFileIsAConfigurationError) {
    try {
        Config::load("/nonexistent/sealpost.ini");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), kExitConfig);
    }
}

TEST(Config, SizesAcceptSuffixesAndRejectGarbage) {
    Config c;
    c.set("serve", "max-message-size", "10M");
    EXPECT_EQ(c.get_size("serve", "max-message-size", 0), 10 * 1024 * 1024);
    c.set("serve", "max-message-size", "512k");
    EXPECT_EQ(c.get_size("serve", "max-message-size", 0), 512 * 1024);
    c.set("serve", "max-message-size", "lots");
    EXPECT_THROW(c.get_size("serve", "max-message-size", 0), Error);
    EXPECT_EQ(c.get_size("serve", "unset-key", 7), 7);
}
