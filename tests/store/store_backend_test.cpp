// store_backend_test.cpp: one suite, every backend. Each test runs on the
// `files` backend (a temporary directory) and on the `postgres` backend (a
// fresh database per test on the real server tests/pg/pg_server.sh started:
// its socket directory in SEALPOST_TEST_PG, set by ctest; missing is a
// failure, not a skip).
// A second store object on the same directory or database plays another
// process or node.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "cert_store_files.hpp"
#include "cert_store_postgres.hpp"
#include "errors.hpp"

using namespace sealpost;
namespace fs = std::filesystem;

namespace {

X509Ptr user_cert(const std::string& name) {
    auto pem = read_file(fs::path(SEALPOST_PKI) / "users" / (name + ".crt"));
    if (!pem) throw std::runtime_error("missing test certificate " + name);
    return read_certificate_pem(*pem);
}

std::string fp(const std::string& name) { return sha256_fingerprint(user_cert(name).get()); }

std::string test_name() {
    std::string n = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string out;
    for (char c : n) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    return out;
}

// The test server's environment for libpq, from SEALPOST_TEST_PG.
bool use_test_server() {
    const char* dir = std::getenv("SEALPOST_TEST_PG");
    if (!dir) return false;
    ::setenv("PGHOST", dir, 1);
    ::setenv("PGUSER", "sealpost", 1);
    ::setenv("PGDATABASE", "sealpost_test", 1);
    return true;
}

// Polls `cond` up to `seconds` (a notification crosses a connection).
bool StoreBackendTest_eventually(const std::function<bool()>& cond, int seconds = 5) {
    for (int i = 0; i < seconds * 100; ++i) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

class StoreBackendTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "files") {
            dir_ = fs::temp_directory_path() / ("sealpost-backend-" + std::to_string(::getpid()) + "-" + test_name());
            fs::remove_all(dir_);
        } else {
            ASSERT_TRUE(use_test_server()) << "SEALPOST_TEST_PG unset: run through ctest (tests/pg/pg_server.sh)";
            db_ = "t_" + std::to_string(::getpid()) + "_" + test_name().substr(0, 40);
            PgConnection admin("dbname=postgres");
            admin.exec("DROP DATABASE IF EXISTS " + db_);
            admin.exec("CREATE DATABASE " + db_);
            PgConnection c("dbname=" + db_);
            PostgresCertStore::init_schema(c);
        }
        store_ = open();
    }
    void TearDown() override {
        store_.reset();
        if (!dir_.empty()) fs::remove_all(dir_);
        if (!db_.empty()) {
            PgConnection admin("dbname=postgres");
            admin.exec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
        }
    }
    // A store over the same data: another process (files) or node (postgres).
    std::unique_ptr<CertStore> open() const {
        if (GetParam() == "files") return std::make_unique<FilesCertStore>(dir_);
        return std::make_unique<PostgresCertStore>(PostgresStoreOptions{"dbname=" + db_, false, {}});
    }
    static bool eventually(const std::function<bool()>& cond) { return StoreBackendTest_eventually(cond); }

    fs::path dir_;
    std::string db_;
    std::unique_ptr<CertStore> store_;
};

}  // namespace

TEST_P(StoreBackendTest, StoresAndFindsForEncryptionWithItsMetadata) {
    auto bob = user_cert("bob@example.com");
    CertMetadata meta;
    meta.capabilities = {"AES-256-CBC", "id-aes256-GCM"};
    meta.source = "webhook";
    meta.collected_at = 1700000000;
    EXPECT_EQ(store_->put("Bob@Example.com", bob.get(), meta).outcome, PutOutcome::Stored);
    auto usable = store_->find_for_encryption("bob@example.com", std::time(nullptr));
    ASSERT_TRUE(usable.cert) << usable.reason;
    EXPECT_EQ(usable.cert->fingerprint, sha256_fingerprint(bob.get()));
    EXPECT_EQ(usable.cert->meta.capabilities, meta.capabilities);
    EXPECT_EQ(usable.cert->meta.source, "webhook");
    EXPECT_EQ(usable.cert->meta.collected_at, std::optional<std::time_t>(1700000000));
    EXPECT_EQ(usable.cert->meta.status, CertStatus::Current);
    EXPECT_EQ(store_->get("BOB@example.com")->address, "bob@example.com");
    EXPECT_EQ(store_->addresses(), std::vector<std::string>{"bob@example.com"});
    EXPECT_EQ(open()->get("bob@example.com")->fingerprint, sha256_fingerprint(bob.get())) << "another reader sees it";
}

TEST_P(StoreBackendTest, SameCertificateAgainIsAlreadyCurrent) {
    auto bob = user_cert("bob@example.com");
    store_->put("bob@example.com", bob.get(), {});
    EXPECT_EQ(store_->put("bob@example.com", bob.get(), {}).outcome, PutOutcome::AlreadyCurrent);
    EXPECT_EQ(store_->history("bob@example.com").size(), 1u);
}

TEST_P(StoreBackendTest, NeverReplacesALaterExpiringCertificateButKeepsBoth) {
    auto newer = user_cert("bob@example.com");
    auto older = user_cert("bob@example.com.old");
    ASSERT_GT(not_after(newer.get()), not_after(older.get()));
    store_->put("bob@example.com", newer.get(), {});
    auto r = store_->put("bob@example.com", older.get(), {});
    EXPECT_EQ(r.outcome, PutOutcome::OlderIgnored);
    EXPECT_EQ(r.old_fingerprint, sha256_fingerprint(newer.get()));
    EXPECT_EQ(store_->get("bob@example.com")->fingerprint, sha256_fingerprint(newer.get()));
    auto h = store_->history("bob@example.com");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0]->fingerprint, sha256_fingerprint(newer.get()));
    EXPECT_EQ(h[0]->meta.status, CertStatus::Current);
    EXPECT_EQ(h[1]->fingerprint, sha256_fingerprint(older.get()));
    EXPECT_EQ(h[1]->meta.status, CertStatus::Superseded);

    // The other order: the later-expiring one replaces, the replaced one stays.
    auto replaced = store_->put("carol@example.net", older.get(), {});
    EXPECT_EQ(replaced.outcome, PutOutcome::Stored);
    replaced = store_->put("carol@example.net", newer.get(), {});
    EXPECT_EQ(replaced.outcome, PutOutcome::Replaced);
    EXPECT_EQ(replaced.old_fingerprint, sha256_fingerprint(older.get()));
    h = store_->history("carol@example.net");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0]->meta.status, CertStatus::Current);
    EXPECT_EQ(h[1]->meta.status, CertStatus::Superseded);
    EXPECT_EQ(store_->addresses(), (std::vector<std::string>{"bob@example.com", "carol@example.net"}));
}

TEST_P(StoreBackendTest, LookupRefusesExpiredSigningOnlyAndMissingWithTheReason) {
    store_->put("expired@example.com", user_cert("expired@example.com").get(), {});
    store_->put("signonly@example.com", user_cert("signonly@example.com").get(), {});
    auto now = std::time(nullptr);
    auto e = store_->find_for_encryption("expired@example.com", now);
    EXPECT_FALSE(e.cert);
    EXPECT_NE(e.reason.find("expired"), std::string::npos) << e.reason;
    EXPECT_EQ(status_at(*store_->get("expired@example.com"), now), CertStatus::Expired);
    auto s = store_->find_for_encryption("signonly@example.com", now);
    EXPECT_FALSE(s.cert);
    EXPECT_NE(s.reason.find("keyEncipherment"), std::string::npos) << s.reason;
    auto m = store_->find_for_encryption("nobody@example.com", now);
    EXPECT_FALSE(m.cert);
    EXPECT_EQ(m.reason, "no certificate collected");
    EXPECT_TRUE(store_->find_for_encryption("expired@example.com", 1590000000).cert) << "judged at the time asked";
}

TEST_P(StoreBackendTest, AnUnusableCurrentCertificateNeverBlocksAValidKeptOne) {
    // notyet@ expires last (2091), so it becomes current, but is not valid yet;
    // signonly@ cannot encrypt. The valid bob@ (old) one is chosen.
    store_->put("bob@example.com", user_cert("bob@example.com.old").get(), {});
    ASSERT_EQ(store_->put("bob@example.com", user_cert("notyet@example.com").get(), {}).outcome, PutOutcome::Replaced);
    auto u = store_->find_for_encryption("bob@example.com", std::time(nullptr));
    ASSERT_TRUE(u.cert) << u.reason;
    EXPECT_EQ(u.cert->fingerprint, fp("bob@example.com.old"));

    store_->put("x@example.com", user_cert("bob@example.com.old").get(), {});
    store_->put("x@example.com", user_cert("signonly@example.com").get(), {});
    ASSERT_EQ(store_->get("x@example.com")->fingerprint, fp("signonly@example.com"));
    u = store_->find_for_encryption("x@example.com", std::time(nullptr));
    ASSERT_TRUE(u.cert) << u.reason;
    EXPECT_EQ(u.cert->fingerprint, fp("bob@example.com.old"));
    // Among several valid ones, the one that expires last.
    store_->put("x@example.com", user_cert("bob@example.com").get(), {});
    EXPECT_EQ(store_->find_for_encryption("x@example.com", std::time(nullptr)).cert->fingerprint,
              fp("bob@example.com"));
}

// The invitation ledger (issue 13): wanted counts, claims within the
// interval and max-per-day, shared by a second store object (another
// process or node), and a released claim due again.
TEST_P(StoreBackendTest, InvitationLedgerRecordsWantedAndCountsSightings) {
    store_->record_wanted({{"bob@example.org", InviteReason::NoCertificate, 1000, 0, 0, 0},
                           {"Carol@Example.org", InviteReason::Expiring, 1000, 0, 0, 0}});
    store_->record_wanted({{"bob@example.org", InviteReason::NoCertificate, 2000, 0, 0, 0}});
    auto other = open();
    auto all = other->invitations();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].address, "bob@example.org");
    EXPECT_EQ(all[0].wanted_count, 2);
    EXPECT_EQ(all[0].wanted_at, 2000);
    EXPECT_EQ(all[0].invited_at, 0);
    EXPECT_EQ(all[1].address, "carol@example.org") << "addresses are normalised";
    EXPECT_EQ(all[1].reason, InviteReason::Expiring);
    EXPECT_THROW(store_->record_wanted({{"../x@example.org", InviteReason::NoCertificate, 1, 0, 0, 0}}), Error);
}

TEST_P(StoreBackendTest, InvitationClaimsRespectTheIntervalAcrossStores) {
    auto node2 = open();
    const long long day = 86400, interval = 30 * day;
    auto c1 = store_->claim_invitation("bob@example.org", InviteReason::NoCertificate, 1000000, interval, 0);
    EXPECT_EQ(c1.outcome, InviteClaimOutcome::Claimed);
    EXPECT_EQ(node2->claim_invitation("bob@example.org", InviteReason::NoCertificate, 1000000 + day, interval, 0).outcome,
              InviteClaimOutcome::TooSoon)
        << "the other node sees the claim";
    auto c3 = node2->claim_invitation("bob@example.org", InviteReason::NoCertificate, 1000000 + interval, interval, 0);
    EXPECT_EQ(c3.outcome, InviteClaimOutcome::Claimed);
    EXPECT_EQ(c3.previous_invited_at, 1000000);
    auto all = store_->invitations();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].invite_count, 2);
    EXPECT_EQ(all[0].invited_at, 1000000 + interval);
    // The mail could not be sent: released, due again, the count as before.
    node2->release_invitation("bob@example.org", c3.previous_invited_at);
    all = store_->invitations();
    EXPECT_EQ(all[0].invite_count, 1);
    EXPECT_EQ(all[0].invited_at, 1000000);
    EXPECT_EQ(store_->claim_invitation("bob@example.org", InviteReason::NoCertificate, 1000000 + interval, interval, 0)
                  .outcome,
              InviteClaimOutcome::Claimed);
}

TEST_P(StoreBackendTest, InvitationClaimsStopAtMaxPerDayAcrossStores) {
    auto node2 = open();
    const std::time_t now = 5000000;
    EXPECT_EQ(store_->claim_invitation("a@example.org", InviteReason::NoCertificate, now, 86400, 2).outcome,
              InviteClaimOutcome::Claimed);
    EXPECT_EQ(node2->claim_invitation("b@example.org", InviteReason::Revoked, now + 10, 86400, 2).outcome,
              InviteClaimOutcome::Claimed);
    EXPECT_EQ(store_->claim_invitation("c@example.org", InviteReason::NoCertificate, now + 20, 86400, 2).outcome,
              InviteClaimOutcome::DailyLimit);
    EXPECT_EQ(node2->claim_invitation("c@example.org", InviteReason::NoCertificate, now + 86401, 86400, 2).outcome,
              InviteClaimOutcome::Claimed)
        << "a day later the limit has room again";
    auto all = store_->invitations();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[1].reason, InviteReason::Revoked);
}

TEST_P(StoreBackendTest, ConcurrentClaimsFromTwoStoresInviteOnce) {
    auto node2 = open();
    std::atomic<int> claimed{0};
    auto worker = [&](CertStore* s) {
        for (int i = 0; i < 10; ++i)
            if (s->claim_invitation("r" + std::to_string(i) + "@example.org", InviteReason::NoCertificate, 7000000,
                                    86400, 0)
                    .outcome == InviteClaimOutcome::Claimed)
                claimed++;
    };
    std::thread a(worker, store_.get()), b(worker, node2.get());
    a.join();
    b.join();
    EXPECT_EQ(claimed.load(), 10) << "each address claimed by exactly one of the two";
    for (const auto& r : store_->invitations()) EXPECT_EQ(r.invite_count, 1) << r.address;
}

TEST_P(StoreBackendTest, ForgetRemovesEveryCertificateOfTheAddressOnly) {
    store_->put("bob@example.com", user_cert("bob@example.com.old").get(), {});
    store_->put("bob@example.com", user_cert("bob@example.com").get(), {});
    store_->put("carol@example.net", user_cert("carol@example.net").get(), {});
    EXPECT_TRUE(store_->forget("Bob@example.com"));
    EXPECT_FALSE(store_->get("bob@example.com"));
    EXPECT_TRUE(store_->history("bob@example.com").empty());
    EXPECT_EQ(store_->find_for_encryption("bob@example.com", std::time(nullptr)).reason, "no certificate collected");
    EXPECT_FALSE(store_->forget("bob@example.com"));
    EXPECT_EQ(store_->addresses(), std::vector<std::string>{"carol@example.net"});
}

TEST_P(StoreBackendTest, ABatchIsClaimedProcessedThenCommittedAndAnUncommittedClaimIsNotDone) {
    EXPECT_EQ(store_->claim_batch("batch-1"), BatchClaim::Mine) << "first time: claimed";
    EXPECT_EQ(store_->claim_batch("batch-1"), BatchClaim::Busy) << "while it is processed";
    store_->commit_batch("batch-1");
    EXPECT_EQ(store_->claim_batch("batch-1"), BatchClaim::Done) << "committed: seen";
    auto other = open();
    EXPECT_EQ(other->claim_batch("batch-1"), BatchClaim::Done) << "a store opened later (a restart, another node) sees it";
    EXPECT_EQ(store_->claim_batch("batch-2"), BatchClaim::Mine);
    store_->release_batch("batch-2");
    EXPECT_EQ(store_->claim_batch("batch-2"), BatchClaim::Mine) << "released: a redelivery is processed";
    // A claim never committed (the process died mid-batch) is not "done":
    // after a restart the redelivery is processed.
    EXPECT_EQ(store_->claim_batch("batch-3"), BatchClaim::Mine);
    auto restarted = open();
    EXPECT_NE(restarted->claim_batch("batch-3"), BatchClaim::Done);
    if (GetParam() == "postgres") {
        // Nodes running at the same time share one table. (The files
        // backend reads its batch file at start: one node.)
        EXPECT_EQ(other->claim_batch("batch-4"), BatchClaim::Mine);
        EXPECT_EQ(store_->claim_batch("batch-4"), BatchClaim::Busy);
        other->commit_batch("batch-4");
        EXPECT_EQ(store_->claim_batch("batch-4"), BatchClaim::Done);
    }
}

TEST_P(StoreBackendTest, AnotherStoreObjectSeesAPutAfterItHadLookedTheAddressUp) {
    auto b = open();
    ASSERT_FALSE(b->find_for_encryption("bob@example.com", std::time(nullptr)).cert);  // B has looked: indexed
    store_->put("bob@example.com", user_cert("bob@example.com.old").get(), {});
    EXPECT_TRUE(eventually([&] { return b->find_for_encryption("bob@example.com", std::time(nullptr)).cert != nullptr; }));
    store_->put("bob@example.com", user_cert("bob@example.com").get(), {});
    EXPECT_TRUE(eventually([&] { return b->get("bob@example.com")->fingerprint == fp("bob@example.com"); }));
    store_->forget("bob@example.com");
    EXPECT_TRUE(eventually([&] { return b->get("bob@example.com") == nullptr; }));
}

TEST_P(StoreBackendTest, ConcurrentPutsFromTwoStoreObjectsEndWithTheLaterExpiringCurrent) {
    auto b = open();
    auto newer = user_cert("bob@example.com");
    auto older = user_cert("bob@example.com.old");
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            CertStore& s = i % 2 ? *store_ : *b;
            for (int k = 0; k < 10; ++k) {
                s.put("bob@example.com", (i + k) % 2 ? newer.get() : older.get(), {});
                s.find_for_encryption("bob@example.com", std::time(nullptr));
            }
        });
    for (auto& t : threads) t.join();
    for (CertStore* s : {store_.get(), b.get()}) {
        EXPECT_TRUE(eventually([&] { return s->get("bob@example.com")->fingerprint == fp("bob@example.com"); }));
        auto h = s->history("bob@example.com");
        ASSERT_EQ(h.size(), 2u);
        EXPECT_EQ(h[0]->meta.status, CertStatus::Current);
        EXPECT_EQ(h[1]->meta.status, CertStatus::Superseded);
    }
}

// put_batch (the webhook's group commit; postgres: one transaction): put()'s
// rules item by item, a later item seeing the earlier ones, and another
// store object sees the result.
TEST_P(StoreBackendTest, PutBatchAppliesPutsRulesInOrderAndAnotherReaderSeesTheResult) {
    auto newer = user_cert("bob@example.com");
    auto older = user_cert("bob@example.com.old");
    auto alice = user_cert("alice@example.com");
    std::vector<PutRequest> batch;
    batch.push_back({"bob@example.com", x509_ref(older.get()), {}});
    batch.push_back({"zed@example.com", x509_ref(alice.get()), {}});
    batch.push_back({"Bob@Example.com", x509_ref(newer.get()), {}});
    batch.push_back({"bob@example.com", x509_ref(older.get()), {}});
    batch.push_back({"zed@example.com", x509_ref(alice.get()), {}});
    auto r = store_->put_batch(std::move(batch));
    ASSERT_EQ(r.size(), 5u);
    EXPECT_EQ(r[0].outcome, PutOutcome::Stored);
    EXPECT_EQ(r[1].outcome, PutOutcome::Stored);
    EXPECT_EQ(r[2].outcome, PutOutcome::Replaced);
    EXPECT_EQ(r[2].old_fingerprint, sha256_fingerprint(older.get()));
    EXPECT_EQ(r[3].outcome, PutOutcome::OlderIgnored);
    EXPECT_EQ(r[4].outcome, PutOutcome::AlreadyCurrent);
    auto other = open();
    for (auto* s : {store_.get(), other.get()}) {
        auto h = s->history("bob@example.com");
        ASSERT_EQ(h.size(), 2u);
        EXPECT_EQ(h[0]->fingerprint, sha256_fingerprint(newer.get()));
        EXPECT_EQ(h[0]->meta.status, CertStatus::Current);
        EXPECT_EQ(h[1]->meta.status, CertStatus::Superseded);
        EXPECT_EQ(s->get("zed@example.com")->fingerprint, sha256_fingerprint(alice.get()));
    }
}

TEST_P(StoreBackendTest, ARevokedCertificateIsNeverChosenEverywhereAndANewOneReplacesItWhateverItsExpiry) {
    auto newer = user_cert("bob@example.com");
    auto older = user_cert("bob@example.com.old");
    store_->put("bob@example.com", newer.get(), {});
    auto other = open();  // another process or node, which has looked the address up already
    ASSERT_TRUE(other->find_for_encryption("bob@example.com", std::time(nullptr)).cert);
    const std::string evidence = "crl http://ca.example/inter.crl: revoked 2026-11-01T00:00:00Z (keyCompromise)";
    EXPECT_FALSE(store_->mark_revoked("bob@example.com", fp("alice@example.com"), evidence)) << "not kept: false";
    ASSERT_TRUE(store_->mark_revoked("bob@example.com", fp("bob@example.com"), evidence));
    auto now = std::time(nullptr);
    auto u = store_->find_for_encryption("bob@example.com", now);
    EXPECT_FALSE(u.cert);
    EXPECT_EQ(u.reason, "certificate revoked: " + evidence);
    EXPECT_TRUE(eventually([&] { return !other->find_for_encryption("bob@example.com", std::time(nullptr)).cert; }))
        << "the other process or node still encrypts to a revoked certificate";
    auto kept = store_->get("bob@example.com");
    ASSERT_TRUE(kept) << "a revoked current certificate keeps its place (certs list, certs show)";
    EXPECT_EQ(kept->meta.status, CertStatus::Revoked);
    EXPECT_EQ(kept->meta.revocation, evidence);
    // The customer sends a new certificate (here one that expires earlier): it replaces the revoked one.
    EXPECT_EQ(store_->put("bob@example.com", older.get(), {}).outcome, PutOutcome::Replaced);
    u = store_->find_for_encryption("bob@example.com", now);
    ASSERT_TRUE(u.cert) << u.reason;
    EXPECT_EQ(u.cert->fingerprint, sha256_fingerprint(older.get()));
    auto h = store_->history("bob@example.com");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[1]->fingerprint, sha256_fingerprint(newer.get()));
    EXPECT_EQ(h[1]->meta.status, CertStatus::Revoked) << "revoked stays revoked once superseded";
    // Collected again (a replayed mail): still revoked, still not chosen.
    EXPECT_EQ(store_->put("bob@example.com", newer.get(), {}).outcome, PutOutcome::KnownRevoked);
    EXPECT_EQ(store_->find_for_encryption("bob@example.com", now).cert->fingerprint, sha256_fingerprint(older.get()));
}

TEST_P(StoreBackendTest, AddressesThatCannotBeNamesAreRefused) {
    auto bob = user_cert("bob@example.com");
    EXPECT_THROW(store_->put("\"../../x\"@example.com", bob.get(), {}), Error);
    EXPECT_THROW(store_->get(".hidden@example.com"), Error);
    EXPECT_TRUE(store_->addresses().empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreBackendTest, ::testing::Values("files", "postgres"),
                         [](const auto& p) { return p.param; });

// What only the postgres backend has: a server to lose, a schema to create.
TEST(PostgresStore, UnreachableAtStartIsTempFailWithTheConnectionError) {
    try {
        PostgresCertStore s({"host=/nonexistent-sealpost-socket-dir dbname=x connect_timeout=2", false});
        FAIL() << "opened a store on no server";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::TempFail);
        EXPECT_EQ(e.exit_code(), 75);
        EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("nonexistent-sealpost-socket-dir"), std::string::npos) << e.what();
    }
}

TEST(PostgresStore, NoSchemaIsAConfigErrorUnlessCreatingIsAllowed) {
    ASSERT_TRUE(use_test_server()) << "SEALPOST_TEST_PG unset: run through ctest (tests/pg/pg_server.sh)";
    std::string db = "t_" + std::to_string(::getpid()) + "_schema";
    {
        PgConnection admin("dbname=postgres");
        admin.exec("DROP DATABASE IF EXISTS " + db);
        admin.exec("CREATE DATABASE " + db);
    }
    try {
        PostgresCertStore s({"dbname=" + db, false});
        FAIL() << "opened a database without a schema";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Config);
        EXPECT_NE(std::string(e.what()).find("sealpost store init"), std::string::npos) << e.what();
    }
    {
        PostgresCertStore s({"dbname=" + db, true});
        EXPECT_TRUE(s.addresses().empty());
    }
    PgConnection c("dbname=" + db);
    EXPECT_EQ(PostgresCertStore::init_schema(c), PostgresCertStore::kSchemaVersion) << "idempotent";
    EXPECT_EQ(c.exec("SELECT max(version) FROM sealpost_schema").value(0, 0),
              std::to_string(PostgresCertStore::kSchemaVersion));
    PgConnection admin("dbname=postgres");
    admin.exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
}

// The database goes away under a running store and comes back: operations
// fail with TempFail meanwhile (the webhook's 500, SMTP's 451, send's 75),
// never "no certificate"; afterwards the same store object works again
// without a restart. A server of its own (stopping the shared one would
// disturb the other tests).
TEST(PostgresStore, ADatabaseLostWhileRunningIsTempFailAndTheStoreReconnects) {
    std::string script = std::string(SEALPOST_SOURCE_DIR) + "/tests/pg/pg_server.sh";
    std::string dir = "/tmp/sealpost-pg-restart-" + std::to_string(::getpid());
    auto run = [&](const std::string& action) {
        return std::system((script + " " + action + " " + dir + " >/dev/null").c_str());
    };
    ASSERT_EQ(run("start"), 0);
    struct Stop {
        std::function<void()> f;
        ~Stop() { f(); }
    } stop{[&] { run("stop"); }};
    std::string url = "host=" + dir + " user=sealpost dbname=sealpost_test";
    PostgresCertStore store({url, true});
    auto now = std::time(nullptr);
    store.put("alice@example.com", user_cert("alice@example.com").get(), {});
    ASSERT_TRUE(store.find_for_encryption("alice@example.com", now).cert);

    ASSERT_EQ(run("pause"), 0);
    try {
        store.put("bob@example.com", user_cert("bob@example.com").get(), {});
        FAIL() << "a put without a database succeeded";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::TempFail) << e.what();
    }
    EXPECT_THROW(store.claim_batch("b-1"), Error);
    // Once the listener has noticed, lookups fail too: the index may be stale.
    bool refused = StoreBackendTest_eventually([&] {
        try {
            store.find_for_encryption("alice@example.com", now);
            return false;
        } catch (const Error& e) {
            return e.kind() == ErrorKind::TempFail;
        }
    }, 20);
    EXPECT_TRUE(refused) << "lookups kept answering from an index nobody keeps fresh";

    ASSERT_EQ(run("resume"), 0);
    bool back = StoreBackendTest_eventually([&] {
        try {
            store.put("bob@example.com", user_cert("bob@example.com").get(), {});
            return store.find_for_encryption("bob@example.com", now).cert != nullptr;
        } catch (const Error&) {
            return false;
        }
    }, 20);
    EXPECT_TRUE(back) << "the store did not reconnect";
    EXPECT_TRUE(store.find_for_encryption("alice@example.com", now).cert);
    EXPECT_EQ(store.claim_batch("b-1"), BatchClaim::Mine);
}
