// store_location_test.cpp: one answer to "where is the store", whichever
// key names it; conflicting keys are an error naming both; a reader never
// gets an empty store for a mistyped path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "config.hpp"
#include "errors.hpp"
#include "store_location.hpp"

using namespace sealpost;
namespace fs = std::filesystem;

namespace {
Config file_config(const std::string& text) {
    auto p = fs::temp_directory_path() / ("sealpost-store-location-" + std::to_string(::getpid()) + ".ini");
    FILE* f = std::fopen(p.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    Config c = Config::load(p.string());
    fs::remove(p);
    return c;
}
}  // namespace

TEST(StoreLocation, EachOfTheThreeKeysNamesTheStore) {
    EXPECT_EQ(resolve_store_location(file_config("[store]\ndir = /a\n"))->dir, "/a");
    EXPECT_EQ(resolve_store_location(file_config("[collector]\nstore = /b\n"))->dir, "/b");
    EXPECT_EQ(resolve_store_location(file_config("[webapp]\nuser-certs-dir = /c\n"))->dir, "/c");
    EXPECT_FALSE(resolve_store_location(file_config("[log]\nlevel = info\n")));
}

TEST(StoreLocation, TwoKeysNamingDifferentDirectoriesAreAConfigErrorNamingBoth) {
    Config c = file_config("[store]\ndir = /srv/a\n[collector]\nstore = /srv/b\n");
    try {
        resolve_store_location(c);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Config);
        EXPECT_EQ(e.exit_code(), 78);
        std::string what = e.what();
        EXPECT_NE(what.find("[store] dir"), std::string::npos) << what;
        EXPECT_NE(what.find("[collector] store"), std::string::npos) << what;
    }
    // The same directory under two names is not a conflict.
    EXPECT_EQ(resolve_store_location(file_config("[store]\ndir = /srv/a\n[collector]\nstore = /srv/a/\n"))->dir, "/srv/a");
}

TEST(StoreLocation, TheCommandLineWinsOverEveryKeyOfTheFile) {
    Config c = file_config("[store]\ndir = /srv/a\n[collector]\nstore = /srv/b\n");
    c.set("store", "dir", "/flag");
    EXPECT_EQ(resolve_store_location(c)->dir, "/flag");
}

TEST(StoreLocation, AReaderRefusesAMissingDirectoryAndAWriterCreatesIt) {
    fs::path dir = fs::temp_directory_path() / ("sealpost-store-missing-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    Config c;
    c.set("store", "dir", dir.string());
    try {
        open_configured_store(c, StoreAccess::ReadExisting);
        FAIL() << "a missing store was opened for reading";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Config);
        EXPECT_NE(std::string(e.what()).find(dir.string()), std::string::npos);
    }
    EXPECT_FALSE(fs::exists(dir));
    auto store = open_configured_store(c, StoreAccess::CreateIfMissing);
    ASSERT_TRUE(store);
    EXPECT_TRUE(fs::is_directory(dir));
    EXPECT_TRUE(open_configured_store(c, StoreAccess::ReadExisting));
    fs::remove_all(dir);
}

TEST(StoreLocation, TheBackendIsChosenByNameAndAnUnknownOneIsAConfigError) {
    fs::path dir = fs::temp_directory_path() / ("sealpost-store-backend-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    Config c;
    c.set("store", "dir", dir.string());
    EXPECT_EQ(open_configured_store(c, StoreAccess::CreateIfMissing)->describe(), "files:" + dir.string());
    c.set("store", "backend", "files");
    EXPECT_EQ(open_configured_store(c, StoreAccess::ReadExisting)->describe(), "files:" + dir.string());
    c.set("store", "backend", "postgress");
    try {
        open_configured_store(c, StoreAccess::ReadExisting);
        FAIL() << "an unknown backend was opened";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Config);
        EXPECT_NE(std::string(e.what()).find("postgress"), std::string::npos);
    }
    fs::remove_all(dir);
}

TEST(StoreLocation, APostgresStoreThatCannotBeReachedIsTempFailNeverNoStore) {
    Config c;
    c.set("store", "backend", "postgres");
    c.set("store", "url", "host=/nonexistent-sealpost-socket-dir dbname=x connect_timeout=2");
    for (auto access : {StoreAccess::ReadExisting, StoreAccess::CreateIfMissing}) {
        try {
            open_configured_store(c, access);
            FAIL() << "opened a store on no server";
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), kExitTempFail);
            EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
        }
    }
}
