// collector_webhook_handler_test.cpp: the inbound relay webhook as a plain
// function, request -> response, without sockets: every status code with
// its exact JSON body, the token, the content type, malformed JSON, the
// email_rfc822_is_base64 flag on a real signed fixture, batch redelivery
// and GET /healthz. What was stored is checked in the store directory.
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <openssl/pem.h>

#include "cert_info.hpp"
#include "collector_support.hpp"
#include "errors.hpp"
#include "handles.hpp"
#include "mime.hpp"
#include "webhook_handler.hpp"

namespace sealpost::test {
namespace {

const std::string kToken = "s3cret-token";

std::string base64(std::string_view bytes) {
    std::string b = base64_lines(bytes);
    b.erase(std::remove_if(b.begin(), b.end(), [](char c) { return c == '\r' || c == '\n'; }), b.end());
    return b;
}

// One relay_message as the provider sends it.
nlohmann::json relay_message(const std::string& rfc822, bool is_base64) {
    return {{"msys",
             {{"relay_message",
               {{"msg_from", "alice@example.com"},
                {"rcpt_to", "secureme@inbound.example.com"},
                {"friendly_from", "alice@example.com"},
                {"protocol", "smtp"},
                {"content",
                 {{"email_rfc822", is_base64 ? base64(rfc822) : rfc822},
                  {"email_rfc822_is_base64", is_base64},
                  {"subject", "test"}}}}}}}};
}

X509Ptr pem_certificate(const std::string& path) {
    std::string pem = slurp(path);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

struct Stamp {
    ino_t inode;
    long long mtime_ns;
    bool operator==(const Stamp&) const = default;
};
Stamp stamp(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return {st.st_ino, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
}

class WebhookHandlerTest : public CollectorTest {
protected:
    void SetUp() override {
        CollectorTest::SetUp();
        options.source = "webhook";
        handler = std::make_unique<WebhookHandler>(kToken, options, *store, anchors);
    }

    // A well-formed POST /; tests change what they are about.
    WebhookRequest post(std::string body, std::string batch_id = "") const {
        WebhookRequest r;
        r.method = "POST";
        r.target = "/";
        r.content_type = "application/json";
        r.token = kToken;
        r.batch_id = std::move(batch_id);
        r.body = std::move(body);
        r.peer = "192.0.2.1:4711";
        return r;
    }
    WebhookRequest post_batch(const std::vector<nlohmann::json>& messages, std::string batch_id = "") const {
        return post(nlohmann::json(messages).dump(), std::move(batch_id));
    }

    std::unique_ptr<WebhookHandler> handler;
};

const std::string kOk = R"({"message":"ok"})";
const std::string kBadContentType = R"({"message":"Unknown Content-Type in request headers"})";
const std::string kBadToken = R"({"message":"Invalid X-MessageSystems-Webhook-Token in request headers"})";

TEST_F(WebhookHandlerTest, HealthzAnswers200WithoutTokenOrContentType) {
    WebhookRequest r;
    r.method = "GET";
    r.target = "/healthz";
    auto res = handler->handle(r);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, R"({"status":"ok"})");
    r.method = "HEAD";
    EXPECT_EQ(handler->handle(r).status, 200);
    r.target = "/healthz?probe=lb1";
    EXPECT_EQ(handler->handle(r).status, 200);
}

TEST_F(WebhookHandlerTest, OtherPathsAre404) {
    for (const char* target : {"/webhook", "/healthz/x", "//", "/index.html", "*"}) {
        auto r = post("[]");
        r.target = target;
        auto res = handler->handle(r);
        EXPECT_EQ(res.status, 404) << target;
        EXPECT_EQ(res.body, R"({"message":"Not Found"})") << target;
    }
    auto r = post("[]");
    r.method = "POST";
    r.target = "/healthz";
    EXPECT_EQ(handler->handle(r).status, 404) << "POST /healthz is not the webhook";
}

TEST_F(WebhookHandlerTest, OtherMethodsOnTheRootAre405) {
    for (const char* method : {"GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "post"}) {
        auto r = post("[]");
        r.method = method;
        auto res = handler->handle(r);
        EXPECT_EQ(res.status, 405) << method;
        EXPECT_EQ(res.body, R"({"message":"Method Not Allowed"})") << method;
    }
}

TEST_F(WebhookHandlerTest, AQueryStringOnTheRootIsStillTheWebhook) {
    auto r = post("[]");
    r.target = "/?source=relay";
    EXPECT_EQ(handler->handle(r).status, 200);
}

TEST_F(WebhookHandlerTest, MissingOrWrongContentTypeIs400) {
    for (const char* ct : {"", "text/plain", "application/jsonx", "application/x-www-form-urlencoded", "json"}) {
        auto r = post("[]");
        r.content_type = ct;
        auto res = handler->handle(r);
        EXPECT_EQ(res.status, 400) << ct;
        EXPECT_EQ(res.body, kBadContentType) << ct;
    }
}

TEST_F(WebhookHandlerTest, ContentTypeWithCharsetOrOtherCaseIsAccepted) {
    for (const char* ct : {"application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON",
                           "application/json ; charset=utf-8"}) {
        auto r = post("[]");
        r.content_type = ct;
        auto res = handler->handle(r);
        EXPECT_EQ(res.status, 200) << ct;
        EXPECT_EQ(res.body, kOk) << ct;
    }
}

TEST_F(WebhookHandlerTest, TheContentTypeIsCheckedBeforeTheToken) {
    auto r = post("[]");
    r.content_type = "text/plain";
    r.token = "wrong";
    EXPECT_EQ(handler->handle(r).body, kBadContentType);
}

TEST_F(WebhookHandlerTest, MissingOrWrongTokenIs401AndNothingIsProcessed) {
    auto body = nlohmann::json(std::vector{relay_message(fixture("valid-detached"), false)}).dump();
    for (std::string token : {std::string(), std::string("wrong"), kToken.substr(0, kToken.size() - 1), kToken + "x",
                              std::string(" ") + kToken, std::string("S3CRET-TOKEN")}) {
        auto r = post(body, "batch-for-" + std::to_string(token.size()));
        r.token = token;
        auto res = handler->handle(r);
        EXPECT_EQ(res.status, 401) << "token '" << token << "'";
        EXPECT_EQ(res.body, kBadToken);
    }
    EXPECT_FALSE(fs::exists(crt("alice@example.com")));
    EXPECT_FALSE(fs::exists(store_dir / ".webhook-batch-ids")) << "a refused request must not consume its batch id";
}

// What the HTTP server asks before it reads a body: everything that can be
// refused from the header alone is refused there, in the same order and
// with the same answers as handle().
TEST_F(WebhookHandlerTest, CheckHeadersRefusesWithoutABodyAndLetsGoodRequestsThrough) {
    auto headers_only = [&](std::string method, std::string target, std::string ct, std::string token) {
        WebhookRequest r;
        r.method = std::move(method);
        r.target = std::move(target);
        r.content_type = std::move(ct);
        r.token = std::move(token);
        r.peer = "test";
        return r;
    };
    auto res = handler->check_headers(headers_only("POST", "/", "application/json", ""));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    EXPECT_EQ(res->body, kBadToken);
    res = handler->check_headers(headers_only("POST", "/", "application/json", "wrong"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    res = handler->check_headers(headers_only("POST", "/", "text/plain", kToken));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    res = handler->check_headers(headers_only("POST", "/nope", "application/json", kToken));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404);
    res = handler->check_headers(headers_only("GET", "/", "", ""));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 405);
    EXPECT_FALSE(handler->check_headers(headers_only("POST", "/", "application/json", kToken)));
    EXPECT_FALSE(handler->check_headers(headers_only("GET", "/healthz", "", "")));
}

TEST_F(WebhookHandlerTest, DeeplyNestedJsonIs400QuicklyAndWithinTheLimitIsFine) {
    // A million '[': refused at the 65th without building a tree.
    std::string deep(1000000, '[');
    auto start = std::chrono::steady_clock::now();
    auto res = handler->handle(post(deep));
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(res.status, 400);
    EXPECT_EQ(res.body, R"({"message":"Malformed JSON in request body"})");
    EXPECT_LT(took, std::chrono::seconds(1)) << "the depth limit must stop the parse early";
    // 65 levels (the array itself and 64 inside) is one too many; 64 is accepted.
    EXPECT_EQ(handler->handle(post(std::string(65, '[') + std::string(65, ']'))).status, 400);
    EXPECT_EQ(handler->handle(post(std::string(64, '[') + std::string(64, ']'))).status, 200);
    std::string objects = "[";
    for (int i = 0; i < 70; ++i) objects += "{\"a\":";
    objects += "1";
    for (int i = 0; i < 70; ++i) objects += "}";
    objects += "]";
    EXPECT_EQ(handler->handle(post(objects)).status, 400);
}

TEST_F(WebhookHandlerTest, Base64WithPaddingInTheMiddleIsRejectedAndNothingStored) {
    std::string good = relay_message(fixture("valid-detached"), true)["msys"]["relay_message"]["content"]["email_rfc822"];
    auto spliced = relay_message(fixture("valid-detached"), true);
    // Valid base64 of the mail, with "QQ==" (an 'A') glued in front: a lax
    // decoder would decode both halves.
    spliced["msys"]["relay_message"]["content"]["email_rfc822"] = "QQ==" + good;
    auto spaced = relay_message(fixture("valid-detached"), true);
    spaced["msys"]["relay_message"]["content"]["email_rfc822"] = good.substr(0, 8) + " " + good.substr(8);
    EXPECT_EQ(handler->handle(post_batch({spliced, spaced})).status, 200);
    EXPECT_FALSE(fs::exists(crt("alice@example.com")));
}

TEST_F(WebhookHandlerTest, TheRightTokenIsAccepted) {
    auto res = handler->handle(post_batch({relay_message(fixture("valid-detached"), false)}));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, kOk);
    EXPECT_TRUE(fs::exists(crt("alice@example.com")));
}

TEST_F(WebhookHandlerTest, WithoutAConfiguredTokenAnyTokenIsAccepted) {
    WebhookHandler open("", options, *store, anchors);
    auto r = post("[]");
    r.token = "";
    EXPECT_EQ(open.handle(r).status, 200);
    r.token = "anything";
    EXPECT_EQ(open.handle(r).status, 200);
}

TEST_F(WebhookHandlerTest, MalformedJsonIs400) {
    for (const char* body : {"", "[", "{\"msys\":", "not json", "[1,]", "{}", "\"string\"", "42", "null"}) {
        auto res = handler->handle(post(body));
        EXPECT_EQ(res.status, 400) << body;
        EXPECT_EQ(res.body, R"({"message":"Malformed JSON in request body"})") << body;
    }
}

TEST_F(WebhookHandlerTest, Answers200WhateverTheVerdicts) {
    nlohmann::json not_relay = {{"msys", {{"message_event", {}}}}};
    nlohmann::json no_content = {{"msys", {{"relay_message", {{"msg_from", "x@example.com"}}}}}};
    auto res = handler->handle(post_batch({relay_message(fixture("no-dkim"), false),
                                           relay_message(fixture("corrupted-signature"), false), not_relay, no_content,
                                           nlohmann::json(7), relay_message("garbage", false)}));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, kOk);
    EXPECT_TRUE(store->addresses().empty());
}

TEST_F(WebhookHandlerTest, EveryMessageOfABatchIsCollected) {
    auto res = handler->handle(post_batch({relay_message(fixture("valid-detached"), false),
                                           relay_message(fixture("no-dkim"), false),
                                           relay_message(fixture("ec-signer"), true)}));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(store->addresses(), (std::vector<std::string>{"alice@example.com", "dave@example.org"}));
    EXPECT_NE(slurp(json("alice@example.com")).find("\"source\": \"webhook\""), std::string::npos);
}

TEST_F(WebhookHandlerTest, Base64FlagTrueDecodesTheMessage) {
    auto res = handler->handle(post_batch({relay_message(fixture("valid-detached"), true)}));
    EXPECT_EQ(res.status, 200);
    ASSERT_TRUE(fs::exists(crt("alice@example.com")));
    auto stored = store->get("alice@example.com");
    ASSERT_TRUE(stored);
    EXPECT_EQ(X509_cmp(stored->cert.get(), pem_certificate(pki() + "/users/alice@example.com.crt").get()), 0)
        << "the stored certificate is Alice's";
}

TEST_F(WebhookHandlerTest, Base64FlagFalseTakesTheTextAsIs) {
    EXPECT_EQ(handler->handle(post_batch({relay_message(fixture("valid-detached"), false)})).status, 200);
    EXPECT_TRUE(fs::exists(crt("alice@example.com")));
}

TEST_F(WebhookHandlerTest, Base64FlagMustMatchTheContent) {
    // Raw text announced as base64, and base64 announced as raw text: neither
    // is a signed mail, so nothing is stored, and the answer is still 200.
    auto raw_as_b64 = relay_message(fixture("valid-detached"), false);
    raw_as_b64["msys"]["relay_message"]["content"]["email_rfc822_is_base64"] = true;
    auto b64_as_raw = relay_message(fixture("valid-detached"), true);
    b64_as_raw["msys"]["relay_message"]["content"]["email_rfc822_is_base64"] = false;
    auto res = handler->handle(post_batch({raw_as_b64, b64_as_raw}));
    EXPECT_EQ(res.status, 200);
    EXPECT_FALSE(fs::exists(crt("alice@example.com")));
}

TEST_F(WebhookHandlerTest, Base64FlagThatIsNotABooleanCountsAsFalse) {
    auto m = relay_message(fixture("valid-detached"), false);
    m["msys"]["relay_message"]["content"]["email_rfc822_is_base64"] = "true";
    EXPECT_EQ(handler->handle(post_batch({m})).status, 200);
    EXPECT_TRUE(fs::exists(crt("alice@example.com")));
}

TEST_F(WebhookHandlerTest, ARedeliveredBatchIsNotProcessedTwice) {
    auto batch = std::vector{relay_message(fixture("valid-detached"), false)};
    EXPECT_EQ(handler->handle(post_batch(batch, "batch-0001")).status, 200);
    ASSERT_TRUE(fs::exists(crt("alice@example.com")));
    auto before = stamp(crt("alice@example.com"));
    EXPECT_EQ(slurp(store_dir / ".webhook-batch-ids"), "batch-0001\n");

    // Delivered again: answered 200 and not looked at. Had it been processed,
    // the certificate removed here would be back.
    fs::remove(crt("alice@example.com"));
    fs::remove(json("alice@example.com"));
    auto res = handler->handle(post_batch(batch, "batch-0001"));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, kOk);
    EXPECT_FALSE(fs::exists(crt("alice@example.com")));

    // A different batch id with the same content is a new batch.
    EXPECT_EQ(handler->handle(post_batch(batch, "batch-0002")).status, 200);
    EXPECT_TRUE(fs::exists(crt("alice@example.com")));
    EXPECT_FALSE(stamp(crt("alice@example.com")) == before);
    EXPECT_EQ(slurp(store_dir / ".webhook-batch-ids"), "batch-0001\nbatch-0002\n");
}

TEST_F(WebhookHandlerTest, ARedeliveredBatchLeavesTheStoredFileUntouched) {
    auto batch = std::vector{relay_message(fixture("valid-detached"), false)};
    ASSERT_EQ(handler->handle(post_batch(batch, "b-17")).status, 200);
    auto crt_before = stamp(crt("alice@example.com"));
    auto json_before = slurp(json("alice@example.com"));
    ASSERT_EQ(handler->handle(post_batch(batch, "b-17")).status, 200);
    EXPECT_TRUE(stamp(crt("alice@example.com")) == crt_before);
    EXPECT_EQ(slurp(json("alice@example.com")), json_before);
}

TEST_F(WebhookHandlerTest, BatchIdsAreRememberedAcrossRestarts) {
    auto batch = std::vector{relay_message(fixture("valid-detached"), false)};
    ASSERT_EQ(handler->handle(post_batch(batch, "b-restart")).status, 200);
    fs::remove(crt("alice@example.com"));
    // A new process: a new store and handler over the same directory.
    FilesCertStore store2(store_dir);
    WebhookHandler again(kToken, options, store2, anchors);
    EXPECT_EQ(again.handle(post_batch(batch, "b-restart")).status, 200);
    EXPECT_FALSE(fs::exists(crt("alice@example.com")));
}

TEST_F(WebhookHandlerTest, AnInvalidBatchIdIsTreatedAsAbsent) {
    auto batch = std::vector{relay_message(fixture("valid-detached"), false)};
    std::string bad_id = "has space";
    ASSERT_EQ(handler->handle(post_batch(batch, bad_id)).status, 200);
    fs::remove(crt("alice@example.com"));
    ASSERT_EQ(handler->handle(post_batch(batch, bad_id)).status, 200);
    EXPECT_TRUE(fs::exists(crt("alice@example.com"))) << "without a usable id every delivery is processed";
    EXPECT_FALSE(fs::exists(store_dir / ".webhook-batch-ids"));
}

TEST_F(WebhookHandlerTest, ABatchThatFailedForTheEnvironmentIs500AndProcessedWhenRedelivered) {
    auto batch = std::vector{relay_message(fixture("valid-detached"), false)};
    // The store directory is replaced by a file: nothing can be written.
    fs::remove_all(store_dir);
    { std::ofstream(store_dir) << "not a directory"; }
    auto res = handler->handle(post_batch(batch, "b-retry"));
    EXPECT_EQ(res.status, 500);
    EXPECT_EQ(res.body, R"({"message":"Internal Server Error"})");
    // Repaired; the provider retries the batch: it is processed this time.
    fs::remove(store_dir);
    fs::create_directories(store_dir);
    EXPECT_EQ(handler->handle(post_batch(batch, "b-retry")).status, 200);
    EXPECT_TRUE(fs::exists(crt("alice@example.com")));
}

// A store that records what the webhook asks of it, in order, around the
// real files store; `fail_puts` makes every put fail as a full disk would.
class RecordingStore final : public CertStore {
public:
    explicit RecordingStore(CertStore& inner) : inner_(inner) {}
    std::string describe() const override { return inner_.describe(); }
    StoredCertificatePtr get(std::string_view a) const override { return inner_.get(a); }
    std::vector<StoredCertificatePtr> history(std::string_view a) const override { return inner_.history(a); }
    PutResult put(std::string_view a, X509* c, CertMetadata m, bool d) override {
        events.push_back("put");
        if (fail_puts) fail(ErrorKind::TempFail, "disk full");
        return inner_.put(a, c, std::move(m), d);
    }
    std::vector<PutResult> put_batch(std::vector<PutRequest> items, bool d) override {
        events.push_back("put_batch " + std::to_string(items.size()));
        if (fail_puts) fail(ErrorKind::TempFail, "disk full");
        return inner_.put_batch(std::move(items), d);
    }
    std::vector<std::string> addresses() const override { return inner_.addresses(); }
    bool forget(std::string_view a) override { return inner_.forget(a); }
    bool mark_revoked(std::string_view a, const std::string& fp, const std::string& evidence) override {
        return inner_.mark_revoked(a, fp, evidence);
    }
    std::filesystem::path cache_dir() const override { return inner_.cache_dir(); }
    BatchClaim claim_batch(const std::string& id) override { return inner_.claim_batch(id); }
    void commit_batch(const std::string& id) override {
        events.push_back("commit " + std::to_string(inner_.addresses().size()) + " stored");
        inner_.commit_batch(id);
    }
    void release_batch(const std::string& id) override {
        events.push_back("release");
        inner_.release_batch(id);
    }
    void record_wanted(const std::vector<InviteRecord>& w) override { inner_.record_wanted(w); }
    std::vector<InviteRecord> invitations() const override { return inner_.invitations(); }
    InviteClaim claim_invitation(std::string_view a, InviteReason r, std::time_t now, long long interval,
                                 long long max_per_day) override {
        return inner_.claim_invitation(a, r, now, interval, max_per_day);
    }
    void release_invitation(std::string_view a, std::time_t previous) override {
        inner_.release_invitation(a, previous);
    }
    std::vector<std::string> events;
    bool fail_puts = false;

private:
    CertStore& inner_;
};

// Group commit: the accepted messages of a batch are stored by one
// put_batch, which returns (everything durable) before the batch is
// committed and answered; rejected messages are not part of it.
TEST_F(WebhookHandlerTest, ABatchIsStoredAsOneGroupBeforeItIsCommittedAndAnswered) {
    RecordingStore rec(*store);
    WebhookHandler h(kToken, options, rec, anchors);
    auto batch = std::vector{relay_message(fixture("valid-detached"), false), relay_message(fixture("no-dkim"), false),
                             relay_message(fixture("ec-signer"), false), relay_message(fixture("bob-new"), false)};
    auto res = h.handle(post_batch(batch, "group-1"));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(rec.events, (std::vector<std::string>{"put_batch 3", "commit 3 stored"}));
    for (const char* a : {"alice@example.com", "dave@example.org", "bob@example.com"}) {
        EXPECT_TRUE(fs::exists(crt(a))) << a;
        auto meta = metadata_from_json_text(slurp(json(a)));
        ASSERT_TRUE(meta) << a;
        EXPECT_EQ(meta->fingerprint, sha256_fingerprint(pem_certificate(crt(a).string()).get())) << a;
    }
}

// The group write fails: 500, the batch released (not committed), no
// certificate of it visible; the redelivery stores them all.
TEST_F(WebhookHandlerTest, AFailedGroupWriteIs500AndTheBatchIsReleasedNotCommitted) {
    RecordingStore rec(*store);
    WebhookHandler h(kToken, options, rec, anchors);
    auto batch = std::vector{relay_message(fixture("valid-detached"), false), relay_message(fixture("bob-new"), false)};
    rec.fail_puts = true;
    EXPECT_EQ(h.handle(post_batch(batch, "group-2")).status, 500);
    EXPECT_EQ(rec.events, (std::vector<std::string>{"put_batch 2", "release"}));
    EXPECT_FALSE(fs::exists(crt("alice@example.com")));
    EXPECT_FALSE(fs::exists(crt("bob@example.com")));
    rec.fail_puts = false;
    rec.events.clear();
    EXPECT_EQ(h.handle(post_batch(batch, "group-2")).status, 200);
    EXPECT_EQ(rec.events, (std::vector<std::string>{"put_batch 2", "commit 2 stored"}));
    EXPECT_TRUE(fs::exists(crt("alice@example.com")));
    EXPECT_TRUE(fs::exists(crt("bob@example.com")));
}

}  // namespace
}  // namespace sealpost::test
