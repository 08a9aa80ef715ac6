// config_test.cpp: INI loading, flags winning, unknown names refused, booleans, sizes.
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

TEST(Config, FlagWinsOverFile) {
    auto path = write_ini("[store]\ndir = /from/file\n[sender]\nsign = opaque\n");
    Config c = Config::load(path);
    EXPECT_EQ(c.get_or("store", "dir", ""), "/from/file");
    EXPECT_FALSE(c.is_flag("store", "dir"));
    c.set("store", "dir", "/from/flag");
    EXPECT_EQ(c.get_or("store", "dir", ""), "/from/flag");
    EXPECT_TRUE(c.is_flag("store", "dir"));
    EXPECT_EQ(c.get_or("sender", "sign", ""), "opaque");
    std::filesystem::remove(path);
}

// A typo must stop the program: `[store] directory = ...` used to warn and
// then send in clear because no store was configured.
TEST(Config, UnknownKeyIsAnErrorNamingFileLineAndTheClosestKey) {
    auto path = write_ini("[sender]\nsign = opaque\n\n[store]\ndirectory = /srv/certs\n");
    try {
        Config::load(path);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 78);
        std::string what = e.what();
        EXPECT_NE(what.find(path + ":5"), std::string::npos) << what;
        EXPECT_NE(what.find("'directory'"), std::string::npos) << what;
        EXPECT_NE(what.find("[store]"), std::string::npos) << what;
        EXPECT_NE(what.find("did you mean 'dir'"), std::string::npos) << what;
    }
    std::filesystem::remove(path);
}

TEST(Config, UnknownSectionIsAnErrorWithASuggestion) {
    auto path = write_ini("[stroe]\ndir = /srv/certs\n");
    try {
        Config::load(path);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 78);
        std::string what = e.what();
        EXPECT_NE(what.find("unknown section [stroe]"), std::string::npos) << what;
        EXPECT_NE(what.find("did you mean [store]"), std::string::npos) << what;
    }
    std::filesystem::remove(path);
}

TEST(Config, BooleansAcceptTheUsualSpellingsAndRefuseOthers) {
    Config c;
    for (auto yes : {"yes", "True", "on", "1"}) {
        c.set("relay", "durable", yes);
        EXPECT_TRUE(c.get_bool("relay", "durable", false)) << yes;
    }
    for (auto no : {"no", "FALSE", "off", "0"}) {
        c.set("relay", "durable", no);
        EXPECT_FALSE(c.get_bool("relay", "durable", true)) << no;
    }
    EXPECT_TRUE(c.get_bool("relay", "unset", true));
    c.set("relay", "durable", "maybe");
    EXPECT_THROW(c.get_bool("relay", "durable", true), Error);
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
