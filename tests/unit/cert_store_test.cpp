// cert_store_test.cpp: the files backend on disk: the layout older versions
// read (PEM readable by openssl, .json beside it, .history/ for the others),
// lookups judged now, atomic puts, the older-certificate rule, and files
// changed by another process. What every backend must do is in
// store_backend_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "cert_store_files.hpp"
#include "errors.hpp"

using namespace sealpost;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    auto s = read_file(p);
    if (!s) throw std::runtime_error("missing " + p.string());
    return *s;
}

X509Ptr user_cert(const std::string& name) { return read_certificate_pem(slurp(fs::path(SEALPOST_PKI) / "users" / (name + ".crt"))); }

class CertStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("sealpost-store-test-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

}  // namespace

TEST_F(CertStoreTest, StoresPemReadableByOpensslAndFindsItForEncryption) {
    FilesCertStore store(dir_);
    auto bob = user_cert("bob@example.com");
    CertMetadata meta;
    meta.capabilities = {"AES-256-CBC"};
    auto r = store.put("Bob@Example.com", bob.get(), meta);
    EXPECT_EQ(r.outcome, PutOutcome::Stored);
    ASSERT_TRUE(fs::exists(dir_ / "bob@example.com.crt"));
    EXPECT_EQ(slurp(dir_ / "bob@example.com.crt"), certificate_pem(bob.get()));
    auto usable = store.find_for_encryption("bob@example.com", std::time(nullptr));
    ASSERT_TRUE(usable.cert);
    EXPECT_EQ(usable.cert->fingerprint, sha256_fingerprint(bob.get()));
    EXPECT_EQ(usable.cert->meta.capabilities.at(0), "AES-256-CBC");
    EXPECT_EQ(0, std::system(("openssl x509 -noout -in '" + (dir_ / "bob@example.com.crt").string() + "'").c_str()));
}

TEST_F(CertStoreTest, SameCertificateAgainIsAlreadyCurrentAndLeavesTheFileUntouched) {
    FilesCertStore store(dir_);
    auto bob = user_cert("bob@example.com");
    store.put("bob@example.com", bob.get(), {});
    auto before = fs::last_write_time(dir_ / "bob@example.com.crt");
    auto r = store.put("bob@example.com", bob.get(), {});
    EXPECT_EQ(r.outcome, PutOutcome::AlreadyCurrent);
    EXPECT_EQ(before, fs::last_write_time(dir_ / "bob@example.com.crt"));
}

TEST_F(CertStoreTest, NeverReplacesALaterExpiringCertificateWithAnOlderOne) {
    FilesCertStore store(dir_);
    auto newer = user_cert("bob@example.com");
    auto older = user_cert("bob@example.com.old");
    ASSERT_GT(not_after(newer.get()), not_after(older.get()));
    store.put("bob@example.com", newer.get(), {});
    auto r = store.put("bob@example.com", older.get(), {});
    EXPECT_EQ(r.outcome, PutOutcome::OlderIgnored);
    EXPECT_EQ(store.get("bob@example.com")->fingerprint, sha256_fingerprint(newer.get()));

    FilesCertStore second(dir_ / "other");
    second.put("bob@example.com", older.get(), {});
    auto replaced = second.put("bob@example.com", newer.get(), {});
    EXPECT_EQ(replaced.outcome, PutOutcome::Replaced);
    EXPECT_EQ(replaced.old_fingerprint, sha256_fingerprint(older.get()));
}

TEST_F(CertStoreTest, LookupRefusesExpiredSigningOnlyAndMissing) {
    FilesCertStore store(dir_);
    store.put("expired@example.com", user_cert("expired@example.com").get(), {});
    store.put("signonly@example.com", user_cert("signonly@example.com").get(), {});
    auto now = std::time(nullptr);
    auto e = store.find_for_encryption("expired@example.com", now);
    EXPECT_FALSE(e.cert);
    EXPECT_NE(e.reason.find("expired"), std::string::npos) << e.reason;
    auto s = store.find_for_encryption("signonly@example.com", now);
    EXPECT_FALSE(s.cert);
    EXPECT_NE(s.reason.find("keyEncipherment"), std::string::npos) << s.reason;
    auto m = store.find_for_encryption("nobody@example.com", now);
    EXPECT_FALSE(m.cert);
    EXPECT_EQ(m.reason, "no certificate collected");
}

TEST_F(CertStoreTest, EcKeyAgreementCertificateCanEncrypt) {
    FilesCertStore store(dir_);
    store.put("dave@example.org", user_cert("dave@example.org").get(), {});
    EXPECT_TRUE(store.find_for_encryption("dave@example.org", std::time(nullptr)).cert);
}

TEST_F(CertStoreTest, NoticesAFileReplacedByAnotherProcess) {
    FilesCertStore store(dir_);
    store.put("bob@example.com", user_cert("bob@example.com.old").get(), {});
    ASSERT_EQ(store.get("bob@example.com")->fingerprint, sha256_fingerprint(user_cert("bob@example.com.old").get()));
    // Another process writes the file (same path, new content, new inode).
    auto newer = user_cert("bob@example.com");
    write_file_atomic(dir_, "bob@example.com.crt", certificate_pem(newer.get()), false);
    EXPECT_EQ(store.get("bob@example.com")->fingerprint, sha256_fingerprint(newer.get()));
    fs::remove(dir_ / "bob@example.com.crt");
    EXPECT_FALSE(store.get("bob@example.com"));
}

TEST_F(CertStoreTest, MetadataOfAnotherCertificateIsIgnored) {
    FilesCertStore store(dir_);
    CertMetadata gcm;
    gcm.capabilities = {"id-aes256-GCM"};
    store.put("bob@example.com", user_cert("bob@example.com").get(), gcm);
    std::ofstream(dir_ / "bob@example.com.json") << R"({"fingerprint":"00","capabilities":["x"]})";
    FilesCertStore fresh(dir_);
    EXPECT_FALSE(fresh.get("bob@example.com")->meta.recorded);
}

TEST_F(CertStoreTest, AddressesThatCannotBeFileNamesNeverTouchTheDisk) {
    FilesCertStore store(dir_);
    auto bob = user_cert("bob@example.com");
    EXPECT_THROW(store.put("\"../../x\"@example.com", bob.get(), {}), Error);
    EXPECT_THROW(store.get(".hidden@example.com"), Error);
    EXPECT_TRUE(fs::is_empty(dir_));
    EXPECT_FALSE(fs::exists(dir_.parent_path() / "x\"@example.com.crt"));
}

TEST_F(CertStoreTest, ConcurrentPutsLeaveOneWholeFileAndTheLaterExpiringWins) {
    FilesCertStore store(dir_);
    auto newer = user_cert("bob@example.com");
    auto older = user_cert("bob@example.com.old");
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i)
        threads.emplace_back([&, i] {
            for (int k = 0; k < 20; ++k) {
                store.put("bob@example.com", (i + k) % 2 ? newer.get() : older.get(), {});
                store.find_for_encryption("bob@example.com", std::time(nullptr));
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(slurp(dir_ / "bob@example.com.crt"), certificate_pem(newer.get()));
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
        if (e.path() == dir_ / ".history") continue;
        EXPECT_NE(e.path().filename().string().front(), '.') << "left a temporary file " << e.path();
    }
    // The older one is kept, beside, not current.
    auto old_fp = sha256_fingerprint(older.get());
    EXPECT_EQ(slurp(dir_ / ".history" / "bob@example.com" / (old_fp + ".crt")), certificate_pem(older.get()));
    EXPECT_EQ(store.addresses(), std::vector<std::string>{"bob@example.com"});
}

TEST_F(CertStoreTest, TheReplacedCertificateIsKeptUnderHistoryAndListingsIgnoreIt) {
    FilesCertStore store(dir_);
    auto older = user_cert("bob@example.com.old");
    auto newer = user_cert("bob@example.com");
    store.put("bob@example.com", older.get(), {});
    ASSERT_EQ(store.put("bob@example.com", newer.get(), {}).outcome, PutOutcome::Replaced);
    auto old_fp = sha256_fingerprint(older.get());
    auto kept = dir_ / ".history" / "bob@example.com" / (old_fp + ".crt");
    ASSERT_TRUE(fs::exists(kept));
    EXPECT_EQ(0, std::system(("openssl x509 -noout -in '" + kept.string() + "'").c_str()));
    auto meta = metadata_from_json_text(slurp(dir_ / ".history" / "bob@example.com" / (old_fp + ".json")));
    ASSERT_TRUE(meta);
    EXPECT_EQ(meta->status, CertStatus::Superseded);
    EXPECT_EQ(metadata_from_json_text(slurp(dir_ / "bob@example.com.json"))->status, CertStatus::Current);
    EXPECT_EQ(slurp(dir_ / "bob@example.com.crt"), certificate_pem(newer.get()));
    EXPECT_EQ(store.addresses(), std::vector<std::string>{"bob@example.com"});
    // Another process (a fresh store) sees both.
    FilesCertStore fresh(dir_);
    EXPECT_EQ(fresh.history("bob@example.com").size(), 2u);
}

// Group commit (put_batch): the same rules as put() one after the other, a
// later item seeing the earlier ones, every file whole when it returns.
TEST_F(CertStoreTest, PutBatchAppliesPutsRulesInOrderWithinTheBatch) {
    FilesCertStore store(dir_);
    auto older = user_cert("bob@example.com.old");
    auto newer = user_cert("bob@example.com");
    auto alice = user_cert("alice@example.com");
    std::vector<PutRequest> batch;
    batch.push_back({"bob@example.com", x509_ref(older.get()), {}});
    batch.push_back({"Alice@Example.com", x509_ref(alice.get()), {}});
    batch.push_back({"bob@example.com", x509_ref(newer.get()), {}});  // replaces the first item
    batch.push_back({"bob@example.com", x509_ref(older.get()), {}});  // older again: ignored, kept
    batch.push_back({"alice@example.com", x509_ref(alice.get()), {}});  // already current by now
    auto r = store.put_batch(std::move(batch));
    ASSERT_EQ(r.size(), 5u);
    EXPECT_EQ(r[0].outcome, PutOutcome::Stored);
    EXPECT_EQ(r[1].outcome, PutOutcome::Stored);
    EXPECT_EQ(r[2].outcome, PutOutcome::Replaced);
    EXPECT_EQ(r[2].old_fingerprint, sha256_fingerprint(older.get()));
    EXPECT_EQ(r[3].outcome, PutOutcome::OlderIgnored);
    EXPECT_EQ(r[3].old_fingerprint, sha256_fingerprint(newer.get()));
    EXPECT_EQ(r[4].outcome, PutOutcome::AlreadyCurrent);
    // On disk: whole files, exactly what put() one by one leaves.
    EXPECT_EQ(slurp(dir_ / "bob@example.com.crt"), certificate_pem(newer.get()));
    EXPECT_EQ(slurp(dir_ / "alice@example.com.crt"), certificate_pem(alice.get()));
    auto meta = metadata_from_json_text(slurp(dir_ / "bob@example.com.json"));
    ASSERT_TRUE(meta);
    EXPECT_EQ(meta->fingerprint, sha256_fingerprint(newer.get()));
    EXPECT_EQ(meta->status, CertStatus::Current);
    auto old_fp = sha256_fingerprint(older.get());
    EXPECT_TRUE(fs::exists(dir_ / ".history" / "bob@example.com" / (old_fp + ".crt")));
    // No temporary is left; the index answers as a fresh store reading the disk does.
    for (const auto& e : fs::recursive_directory_iterator(dir_))
        EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
    FilesCertStore fresh(dir_);
    for (auto* s : {static_cast<CertStore*>(&store), static_cast<CertStore*>(&fresh)}) {
        auto h = s->history("bob@example.com");
        ASSERT_EQ(h.size(), 2u);
        EXPECT_EQ(h[0]->fingerprint, sha256_fingerprint(newer.get()));
        EXPECT_EQ(h[0]->meta.status, CertStatus::Current);
        EXPECT_EQ(h[1]->fingerprint, old_fp);
        EXPECT_EQ(h[1]->meta.status, CertStatus::Superseded);
    }
    EXPECT_EQ(store.addresses(), (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
}

TEST_F(CertStoreTest, PutBatchOfAlreadyCurrentCertificatesWritesNothing) {
    FilesCertStore store(dir_);
    auto bob = user_cert("bob@example.com");
    store.put("bob@example.com", bob.get(), {});
    auto before = fs::last_write_time(dir_ / "bob@example.com.crt");
    std::vector<PutRequest> batch;
    batch.push_back({"bob@example.com", x509_ref(bob.get()), {}});
    batch.push_back({"bob@example.com", x509_ref(bob.get()), {}});
    auto r = store.put_batch(std::move(batch));
    EXPECT_EQ(r[0].outcome, PutOutcome::AlreadyCurrent);
    EXPECT_EQ(r[1].outcome, PutOutcome::AlreadyCurrent);
    EXPECT_EQ(before, fs::last_write_time(dir_ / "bob@example.com.crt"));
}

// A batch that fails (here: the history cannot be written) promises nothing:
// whatever it renamed before failing is whole, and nothing torn is visible.
TEST_F(CertStoreTest, AFailedPutBatchLeavesOnlyWholeFiles) {
    FilesCertStore store(dir_);
    auto older = user_cert("bob@example.com.old");
    auto newer = user_cert("bob@example.com");
    store.put("bob@example.com", older.get(), {});
    { std::ofstream(dir_ / ".history") << "not a directory"; }
    std::vector<PutRequest> batch;
    batch.push_back({"alice@example.com", x509_ref(user_cert("alice@example.com").get()), {}});
    batch.push_back({"bob@example.com", x509_ref(newer.get()), {}});
    EXPECT_THROW(store.put_batch(std::move(batch)), Error);
    // Bob's current certificate was not replaced without its predecessor kept.
    EXPECT_EQ(slurp(dir_ / "bob@example.com.crt"), certificate_pem(older.get()));
    EXPECT_FALSE(fs::exists(dir_ / "alice@example.com.crt"));
    for (const auto& e : fs::directory_iterator(dir_))
        EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}
