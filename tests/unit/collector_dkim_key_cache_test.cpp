// collector_dkim_key_cache_test.cpp: libopendkim's key decoding, memoised
// (dkim_key_decode_cache.hpp): a key is decoded once, a kept key still
// rejects what it must, a changed record is a new key, and the redirect
// refuses what it cannot do safely.
#include <openssl/x509.h>

#include <dlfcn.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "collector_support.hpp"
#include "dkim_check.hpp"
#include "dkim_key_decode_cache.hpp"
#include "import_redirect.hpp"

namespace sealpost::test {
namespace {

// A function of libopendkim (the collector links it; this binary need not).
const void* libopendkim_function() {
    const void* f = dlsym(RTLD_DEFAULT, "dkim_init");
    EXPECT_NE(f, nullptr) << "libopendkim is not loaded";
    return f;
}

DkimResult check(const DkimVerifier& v, const std::string& fixture_name) {
    return v.check(fixture(fixture_name), "example.com", DkimAlignment::Strict);
}

// A copy of the test PKI's key file in which `name` has `other`'s record.
std::string keys_with_swapped_record(const fs::path& dir, const std::string& name, const std::string& other) {
    std::ifstream in(pki() + "/dkim/keys.txt");
    std::map<std::string, std::string> records;
    std::string line;
    while (std::getline(in, line)) {
        auto sep = line.find(' ');
        if (sep != std::string::npos) records[line.substr(0, sep)] = line.substr(sep + 1);
    }
    EXPECT_TRUE(records.count(name) && records.count(other)) << "the test PKI lacks " << name << " or " << other;
    records[name] = records[other];
    fs::create_directories(dir);
    std::string path = (dir / "swapped-keys.txt").string();
    std::ofstream out(path);
    for (const auto& [n, r] : records) out << n << ' ' << r << '\n';
    return path;
}

// Installs the memo (a verifier does) and empties it: each test starts with
// no key kept, whatever ran before in this process. Where the redirect does
// not exist (not x86-64 or AArch64) every test here is skipped, not failed.
class DkimKeyDecodeCache : public ::testing::Test {
protected:
    void SetUp() override {
        DkimVerifier installs(pki() + "/dkim/keys.txt");
        forget_decoded_dkim_keys();
        auto s = dkim_key_decode_stats();
#if defined(__x86_64__) || defined(__aarch64__)
        ASSERT_TRUE(s.installed) << s.reason;
#else
        GTEST_SKIP() << "no import redirect on this architecture: " << s.reason;
#endif
    }
};

TEST_F(DkimKeyDecodeCache, AKeyIsDecodedOnceForEveryMessageItSigns) {
    DkimVerifier v(pki() + "/dkim/keys.txt");
    auto before = dkim_key_decode_stats();
    for (int i = 0; i < 3; ++i) {
        DkimResult r = check(v, "valid-detached");
        EXPECT_TRUE(r.passed) << r.reason;
    }
    auto after = dkim_key_decode_stats();
    EXPECT_EQ(after.misses - before.misses, 1u) << "example.com's key decoded more than once";
    EXPECT_EQ(after.hits - before.hits, 2u);
}

TEST_F(DkimKeyDecodeCache, AKeptKeyStillRejectsAChangedHeader) {
    DkimVerifier v(pki() + "/dkim/keys.txt");
    ASSERT_TRUE(check(v, "valid-detached").passed);
    auto before = dkim_key_decode_stats();
    DkimResult r = check(v, "broken-dkim");
    EXPECT_FALSE(r.passed);
    ASSERT_EQ(r.signatures.size(), 1u);
    EXPECT_FALSE(r.signatures[0].verified) << "a changed Subject verified with the kept key";
    EXPECT_EQ(dkim_key_decode_stats().hits - before.hits, 1u) << "the broken signature did not use the kept key";
}

TEST_F(DkimKeyDecodeCache, AChangedRecordIsANewKey) {
    DkimVerifier right(pki() + "/dkim/keys.txt");
    ASSERT_TRUE(check(right, "valid-detached").passed);  // example.com's key is now kept
    fs::path dir = fs::temp_directory_path() / ("sealpost-dkim-keys-" + std::to_string(::getpid()));
    DkimVerifier swapped(keys_with_swapped_record(dir, "sel._domainkey.example.com", "sel._domainkey.example.net"));
    auto before = dkim_key_decode_stats();
    DkimResult r = check(swapped, "valid-detached");
    fs::remove_all(dir);
    EXPECT_FALSE(r.passed) << "verified with example.net's key: the kept example.com key was used";
    EXPECT_EQ(dkim_key_decode_stats().misses - before.misses, 1u);
    EXPECT_TRUE(check(right, "valid-detached").passed) << "the right key was lost";
}

TEST(ImportRedirect, RefusesWhatIsNotAFunctionOfALoadedLibrary) {
    int not_code = 0;
    ImportRedirect r = redirect_import(&not_code, "d2i_PUBKEY_bio", reinterpret_cast<void*>(&d2i_PUBKEY_bio),
                                       reinterpret_cast<void*>(&d2i_PUBKEY_bio));
    EXPECT_FALSE(r.done);
    EXPECT_NE(r.reason.find("not a loaded shared object"), std::string::npos) << r.reason;
}

TEST(ImportRedirect, RefusesASlotThatDoesNotHoldTheExpectedFunction) {
    DkimVerifier v(pki() + "/dkim/keys.txt");  // installs the memo: the slot no longer holds d2i_PUBKEY_bio
    ImportRedirect r = redirect_import(libopendkim_function(), "d2i_PUBKEY_bio",
                                       reinterpret_cast<void*>(&d2i_PUBKEY_bio), reinterpret_cast<void*>(&d2i_PUBKEY_bio));
    EXPECT_FALSE(r.done);
    EXPECT_NE(r.reason.find("not the expected function"), std::string::npos) << r.reason;
    EXPECT_TRUE(check(v, "valid-detached").passed) << "a refused redirect changed something";
}

TEST(ImportRedirect, RefusesASymbolTheLibraryDoesNotImport) {
    ImportRedirect r = redirect_import(libopendkim_function(), "sealpost_no_such_function",
                                       reinterpret_cast<void*>(&d2i_PUBKEY_bio), reinterpret_cast<void*>(&d2i_PUBKEY_bio));
    EXPECT_FALSE(r.done);
    EXPECT_NE(r.reason.find("does not import"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace sealpost::test
