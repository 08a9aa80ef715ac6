// admin_api_test.cpp: the admin API as a pure function: every endpoint with
// and without the token, each "why not" reason of /v1/recipients, the
// listing with ?expiring, the evidence, DELETE (forget), the error bodies,
// /metrics (token unless public; counters and store gauges), the shared
// recipient_status behind `sealpost certs check`, and the text format.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cert_store_files.hpp"
#include "admin_api.hpp"
#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "metrics.hpp"
#include "recipient_status.hpp"

using namespace sealpost;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

X509Ptr user_cert(const std::string& file) {
    auto pem = read_file(fs::path(SEALPOST_PKI) / "users" / (file + ".crt"));
    if (!pem) throw std::runtime_error("missing fixture " + file);
    return read_certificate_pem(*pem);
}

const char* kToken = "s3cret-admin-token";

class AdminApiTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("sealpost-admin-test-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        store_ = std::make_unique<FilesCertStore>(dir_);
        CertMetadata gcm;
        gcm.capabilities = {"id-aes256-GCM", "aes-256-cbc"};
        gcm.source = "webhook";
        store_->put("bob@example.com", user_cert("bob@example.com").get(), gcm);
        store_->put("dave@example.org", user_cert("dave@example.org").get(), {});
        store_->put("expired@example.com", user_cert("expired@example.com").get(), {});
        store_->put("notyet@example.com", user_cert("notyet@example.com").get(), {});
        store_->put("signonly@example.com", user_cert("signonly@example.com").get(), {});
        // Valid now, expires within 30 days.
        store_->put("soon@example.com", user_cert("bob@example.com.old").get(), {});
    }
    void TearDown() override { fs::remove_all(dir_); }

    AdminApi api(std::string token = kToken, bool metrics_public = false) {
        return AdminApi(AdminOptions{std::move(token), metrics_public, "", {}}, *store_, nullptr);
    }
    static AdminRequest req(std::string method, std::string target, std::string auth = std::string("Bearer ") + kToken) {
        return {std::move(method), std::move(target), std::move(auth), "127.0.0.1:5555"};
    }
    static json body(const AdminResponse& r) {
        auto j = json::parse(r.body, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << r.body;
        return j;
    }

    fs::path dir_;
    std::unique_ptr<CertStore> store_;
};

}  // namespace

TEST_F(AdminApiTest, EveryEndpointWithoutTheTokenIs401WithAJsonError) {
    auto a = api();
    for (auto [m, t] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/metrics"}, {"GET", "/v1/recipients/bob@example.com"}, {"GET", "/v1/certificates"},
             {"GET", "/v1/certificates?expiring=30d"}, {"GET", "/v1/certificates/bob@example.com"},
             {"DELETE", "/v1/certificates/bob@example.com"}, {"GET", "/nowhere"}}) {
        for (std::string auth : std::vector<std::string>{"", "Bearer wrong", "Bearer ", kToken, "Basic Ym9iOmJvYg=="}) {
            auto r = a.handle(req(m, t, auth));
            EXPECT_EQ(r.status, 401) << m << " " << t << " auth=" << auth;
            EXPECT_TRUE(body(r).contains("error")) << r.body;
        }
    }
    EXPECT_TRUE(fs::exists(dir_ / "bob@example.com.crt")) << "a DELETE without the token removed nothing";
}

TEST_F(AdminApiTest, RecipientThatCanBeEncryptedToNamesTheCertificateAndCipher) {
    auto r = api().handle(req("GET", "/v1/recipients/Bob%40Example.com"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = body(r);
    EXPECT_EQ(j["address"], "bob@example.com");
    EXPECT_EQ(j["can_encrypt"], true);
    EXPECT_EQ(j["reason"], "ok");
    EXPECT_EQ(j["cipher"], "aes-256-gcm");  // announced GCM
    auto bob = user_cert("bob@example.com");
    EXPECT_EQ(j["certificate"]["fingerprint"], sha256_fingerprint(bob.get()));
    EXPECT_EQ(j["certificate"]["issuer"], issuer_line(bob.get()));
    EXPECT_EQ(j["certificate"]["not_after"], format_time(not_after(bob.get())));
    EXPECT_EQ(j["certificate"]["key_type"], "rsa");
    EXPECT_EQ(j["certificate"]["capabilities"], json::array({"id-aes256-GCM", "aes-256-cbc"}));

    auto d = body(api().handle(req("GET", "/v1/recipients/dave@example.org")));
    EXPECT_EQ(d["can_encrypt"], true);
    EXPECT_EQ(d["certificate"]["key_type"], "ec");
    EXPECT_EQ(d["cipher"], "aes-256-cbc");  // announced nothing

    AdminApi fixed(AdminOptions{kToken, false, "aes-128-cbc", {}}, *store_);
    EXPECT_EQ(body(fixed.handle(req("GET", "/v1/recipients/bob@example.com")))["cipher"], "aes-128-cbc");
}

TEST_F(AdminApiTest, EachWhyNotReason) {
    auto a = api();
    auto check = [&](const std::string& address, const char* reason, const char* detail) {
        auto r = a.handle(req("GET", "/v1/recipients/" + address));
        ASSERT_EQ(r.status, 200) << r.body;
        auto j = body(r);
        EXPECT_EQ(j["can_encrypt"], false) << address;
        EXPECT_EQ(j["reason"], reason) << address;
        EXPECT_NE(j["detail"].get<std::string>().find(detail), std::string::npos) << j.dump();
        EXPECT_FALSE(j.contains("cipher"));
    };
    check("nobody@example.com", "no-certificate", "no certificate collected");
    check("expired@example.com", "expired", "certificate expired");
    check("notyet@example.com", "not-yet-valid", "not valid before");
    check("signonly@example.com", "cannot-encrypt", "cannot encrypt");
    EXPECT_TRUE(body(a.handle(req("GET", "/v1/recipients/expired@example.com")))["certificate"].is_object());
    EXPECT_TRUE(body(a.handle(req("GET", "/v1/recipients/nobody@example.com")))["certificate"].is_null());

    // Marked revoked in the store (by certs refresh or serve's refresher).
    const std::string bob_fp = store_->get("bob@example.com")->fingerprint;
    ASSERT_TRUE(store_->mark_revoked("bob@example.com", bob_fp, "crl http://ca.example/ca.crl: revoked (keyCompromise)"));
    auto j = body(a.handle(req("GET", "/v1/recipients/bob@example.com")));
    EXPECT_EQ(j["can_encrypt"], false);
    EXPECT_EQ(j["reason"], "revoked");
    EXPECT_EQ(j["detail"], "certificate revoked: crl http://ca.example/ca.crl: revoked (keyCompromise)");
    EXPECT_EQ(j["certificate"]["fingerprint"], bob_fp);

    auto bad = a.handle(req("GET", "/v1/recipients/..%2F..%2Fetc"));
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(body(bad)["reason"], "invalid-address");
    EXPECT_EQ(a.handle(req("GET", "/v1/recipients/bob%4")).status, 400);
}

TEST_F(AdminApiTest, CertificatesListAndExpiringWindow) {
    auto a = api();
    auto all = body(a.handle(req("GET", "/v1/certificates")));
    EXPECT_EQ(all["count"], 6);
    ASSERT_EQ(all["certificates"].size(), 6u);
    EXPECT_EQ(all["certificates"][0]["address"], "bob@example.com");
    EXPECT_EQ(all["certificates"][0]["status"], "ok");
    auto soon = body(a.handle(req("GET", "/v1/certificates?expiring=30d")));
    EXPECT_EQ(soon["expiring_within_days"], 30);
    ASSERT_EQ(soon["count"], 1) << soon.dump();
    EXPECT_EQ(soon["certificates"][0]["address"], "soon@example.com");
    EXPECT_EQ(body(a.handle(req("GET", "/v1/certificates?expiring=0d")))["count"], 0);
    EXPECT_EQ(a.handle(req("GET", "/v1/certificates?expiring=soon")).status, 400);
    EXPECT_EQ(a.handle(req("GET", "/v1/certificates?expiring=99999d")).status, 400);
    EXPECT_EQ(a.handle(req("POST", "/v1/certificates")).status, 405);
}

TEST_F(AdminApiTest, CertificateEvidenceAndUnknownAddress) {
    auto a = api();
    auto r = a.handle(req("GET", "/v1/certificates/bob@example.com"));
    ASSERT_EQ(r.status, 200);
    auto j = body(r);
    EXPECT_EQ(j["fingerprint"], sha256_fingerprint(user_cert("bob@example.com").get()));
    EXPECT_EQ(j["evidence"]["source"], "webhook");
    EXPECT_EQ(j["evidence"]["fingerprint"], j["fingerprint"]);
    EXPECT_NE(j["pem"].get<std::string>().find("-----BEGIN CERTIFICATE-----"), std::string::npos);
    auto missing = a.handle(req("GET", "/v1/certificates/nobody@example.com"));
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(body(missing)["error"], "nobody@example.com: no certificate collected");
    EXPECT_EQ(a.handle(req("GET", "/v1/certificates/a%2Fb@example.com")).status, 400);
}

TEST_F(AdminApiTest, DeleteForgetsTheFilesAndThenIs404) {
    auto a = api();
    auto r = a.handle(req("DELETE", "/v1/certificates/bob@example.com"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body(r)["fingerprint"], sha256_fingerprint(user_cert("bob@example.com").get()));
    EXPECT_FALSE(fs::exists(dir_ / "bob@example.com.crt"));
    EXPECT_FALSE(fs::exists(dir_ / "bob@example.com.json"));
    EXPECT_EQ(body(a.handle(req("GET", "/v1/recipients/bob@example.com")))["reason"], "no-certificate");
    EXPECT_EQ(a.handle(req("DELETE", "/v1/certificates/bob@example.com")).status, 404);
    EXPECT_EQ(a.handle(req("PUT", "/v1/certificates/bob@example.com")).status, 405);
    EXPECT_EQ(a.handle(req("PUT", "/v1/certificates/bob@example.com")).allow, "GET, HEAD, DELETE");
}

TEST_F(AdminApiTest, WithoutAConfiguredTokenReadsAreOpenAndDeleteIs403) {
    auto a = api("");
    EXPECT_EQ(a.handle(req("GET", "/v1/recipients/bob@example.com", "")).status, 200);
    EXPECT_EQ(a.handle(req("GET", "/metrics", "")).status, 200);
    auto r = a.handle(req("DELETE", "/v1/certificates/bob@example.com", ""));
    EXPECT_EQ(r.status, 403);
    EXPECT_TRUE(body(r).contains("error"));
    EXPECT_TRUE(fs::exists(dir_ / "bob@example.com.crt"));
}

TEST_F(AdminApiTest, UnknownPathsAre404AndWrongMethods405) {
    auto a = api();
    auto r = a.handle(req("GET", "/v2/things"));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(body(r)["error"], "not found");
    EXPECT_EQ(a.handle(req("GET", "/")).status, 404);
    EXPECT_EQ(a.handle(req("POST", "/metrics")).status, 405);
    EXPECT_EQ(a.handle(req("DELETE", "/v1/recipients/bob@example.com")).status, 405);
}

TEST_F(AdminApiTest, MetricsNeedTheTokenUnlessPublicAndCarryTheStoreGauges) {
    EXPECT_EQ(api().handle(req("GET", "/metrics", "")).status, 401);
    auto pub = api(kToken, true);
    auto r = pub.handle(req("GET", "/metrics", ""));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r.body.find("sealpost_build_info{version=\""), std::string::npos);
    EXPECT_NE(r.body.find("sealpost_store_certificates{status=\"valid\"} 3\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("sealpost_store_certificates{status=\"expired\"} 1\n"), std::string::npos);
    EXPECT_NE(r.body.find("sealpost_store_certificates{status=\"not-yet-valid\"} 1\n"), std::string::npos);
    EXPECT_NE(r.body.find("sealpost_store_certificates{status=\"cannot-encrypt\"} 1\n"), std::string::npos);
    EXPECT_NE(r.body.find("sealpost_store_certificates_expiring{within=\"30d\"} 1\n"), std::string::npos);
    // Public metrics do not open the rest.
    EXPECT_EQ(pub.handle(req("GET", "/v1/certificates", "")).status, 401);
}

TEST_F(AdminApiTest, RequestsAreCountedByStatus) {
    double before = metrics::admin_requests().value({"401"});
    api().handle(req("GET", "/metrics", ""));
    EXPECT_EQ(metrics::admin_requests().value({"401"}), before + 1);
}

TEST(RecipientStatusTest, InvalidAddressNeverThrows) {
    auto dir = fs::temp_directory_path() / ("sealpost-rs-test-" + std::to_string(::getpid()));
    FilesCertStore store(dir);
    auto s = recipient_status(store, "not an address", std::time(nullptr));
    EXPECT_EQ(s.reason, RecipientReason::InvalidAddress);
    EXPECT_FALSE(s.can_encrypt());
    fs::remove_all(dir);
}

TEST(MetricsTextTest, CountersAndHistogramsInTheExpositionFormat) {
    metrics::CounterFamily c("t_events_total", "Events.", {"kind"});
    c.inc({"a\"b\\c\nd"});
    c.inc({"x"}, 2);
    std::string out;
    c.render(out);
    EXPECT_EQ(out,
              "# HELP t_events_total Events.\n# TYPE t_events_total counter\n"
              "t_events_total{kind=\"a\\\"b\\\\c\\nd\"} 1\nt_events_total{kind=\"x\"} 2\n");
    metrics::HistogramFamily h("t_seconds", "Time.", {}, {0.1, 1});
    h.observe({}, 0.0625);
    h.observe({}, 0.5);
    h.observe({}, 4);
    out.clear();
    h.render(out);
    EXPECT_EQ(out,
              "# HELP t_seconds Time.\n# TYPE t_seconds histogram\n"
              "t_seconds_bucket{le=\"0.1\"} 1\nt_seconds_bucket{le=\"1\"} 2\n"
              "t_seconds_bucket{le=\"+Inf\"} 3\nt_seconds_sum 4.5625\nt_seconds_count 3\n");
}
