// collector_support.hpp: shared set-up for the collector unit tests: the
// generated fixtures (tests/fixtures/make_collect_fixtures.py run once per
// test binary into a temporary directory), a fresh store per test, and
// options pointing at the test PKI's bundle and DKIM keys.
#pragma once

#include <algorithm>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "atomic_file.hpp"
#include "cert_store_files.hpp"
#include "collect.hpp"
#include "cert_info.hpp"
#include "chain_check.hpp"
#include "handles.hpp"

namespace sealpost::test {

namespace fs = std::filesystem;

inline std::string pki() { return SEALPOST_PKI; }

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A PEM certificate of the test PKI (throws when unreadable), or its
// private key (null when unreadable).
inline X509Ptr pem_cert(const std::string& path) { return read_certificate_pem(slurp(path)); }

inline EvpPkeyPtr pem_key(const std::string& path) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    return EvpPkeyPtr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

// The DER OpenSSL writes for `cms` ("" when it cannot).
inline std::string cms_der(CMS_ContentInfo* cms) {
    unsigned char* der = nullptr;
    int n = i2d_CMS_ContentInfo(cms, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(std::max(n, 0)));
    OPENSSL_free(der);
    return out;
}

// The fixture directory beside the test PKI, generated once for all test
// processes (the script locks and reuses fixtures newer than the PKI).
inline const fs::path& fixtures() {
    static fs::path dir = [] {
        fs::path d = fs::path(pki()).parent_path() / "collect-fixtures";
        std::string cmd = std::string(SEALPOST_SOURCE_DIR) + "/tests/fixtures/make_collect_fixtures.py '" + pki() +
                          "' '" + d.string() + "'";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("fixture generation failed: " + cmd);
        return d;
    }();
    return dir;
}

inline std::string fixture(const std::string& name) { return slurp(fixtures() / (name + ".eml")); }

class CollectorTest : public ::testing::Test {
protected:
    void SetUp() override {
        // A parameterised test's name is "Name/3": one directory, not a
        // parent that TearDown would leave behind in /tmp.
        std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::replace(name.begin(), name.end(), '/', '-');
        dir_ = fs::temp_directory_path() / ("sealpost-collect-" + std::to_string(::getpid()) + "-" + name);
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        store_dir = dir_ / "store";
        options.trusted_certs = pki() + "/ca/bundle.crt";
        options.dkim_keys = pki() + "/dkim/keys.txt";
        store = std::make_unique<FilesCertStore>(store_dir);
        anchors = TrustAnchors::load(options.trusted_certs);
    }
    void TearDown() override { fs::remove_all(dir_); }

    Verdict collect(const std::string& raw) { return collect_message(raw, options, *store, *anchors, "test"); }
    Verdict collect_fixture(const std::string& name) { return collect(fixture(name)); }

    fs::path crt(const std::string& address) const { return store_dir / (address + ".crt"); }
    fs::path json(const std::string& address) const { return store_dir / (address + ".json"); }
    // Every file in the test directory, wherever it is: nothing may be
    // written outside the store.
    std::vector<std::string> all_files() const {
        std::vector<std::string> out;
        for (const auto& e : fs::recursive_directory_iterator(dir_))
            if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir_).string());
        std::sort(out.begin(), out.end());
        return out;
    }

    fs::path dir_;
    fs::path store_dir;
    CollectOptions options;
    std::unique_ptr<FilesCertStore> store;
    std::shared_ptr<const TrustAnchors> anchors;
};

}  // namespace sealpost::test
