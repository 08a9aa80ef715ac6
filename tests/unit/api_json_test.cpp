// api_json_test.cpp: the transmissions request body, and how responses map
// to delivery outcomes; the API base URL and key settings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api_json.hpp"
#include "api_settings.hpp"
#include "errors.hpp"

using namespace sealpost;
using json = nlohmann::json;
using Status = DeliveryResult::Status;

namespace {

OutputCopy copy_to_two(bool signed_) {
    OutputCopy c;
    c.mail_from = "alice@example.com";
    c.recipients = {{"Bob", "bob@example.com"}, {"", "carol@example.net"}};
    c.message = "From: alice@example.com\r\n\r\nhi\r\n";
    c.signed_ = signed_;
    return c;
}

ApiSettings::Env no_env() {
    return [](const char*) -> const char* { return nullptr; };
}

}  // namespace

TEST(TransmissionRequest, HasTheDocumentedShapeWithTrackingOffForSignedMail) {
    auto body = json::parse(transmission_request(copy_to_two(true), "statements", true));
    EXPECT_EQ(body["campaign_id"], "statements");
    EXPECT_EQ(body["recipients"][0]["address"]["email"], "bob@example.com");
    EXPECT_EQ(body["recipients"][0]["address"]["name"], "Bob");
    EXPECT_FALSE(body["recipients"][1]["address"].contains("name"));
    EXPECT_EQ(body["content"]["email_rfc822"], "From: alice@example.com\r\n\r\nhi\r\n");
    EXPECT_EQ(body["options"]["open_tracking"], false);  // signed: never tracked, even with track
    EXPECT_EQ(body["options"]["click_tracking"], false);
    EXPECT_EQ(body["options"]["transactional"], true);
}

TEST(TransmissionRequest, TracksOnlyWhenAskedAndTheCopyIsPlain) {
    EXPECT_EQ(json::parse(transmission_request(copy_to_two(false), "c", true))["options"]["open_tracking"], true);
    EXPECT_EQ(json::parse(transmission_request(copy_to_two(false), "c", false))["options"]["open_tracking"], false);
}

TEST(ApiOutcome, AllAcceptedPartialAndErrors) {
    auto c = copy_to_two(true);
    auto ok = api_outcome(200, R"({"results":{"total_rejected_recipients":0,"total_accepted_recipients":2,"id":"11"}})", c);
    EXPECT_EQ(ok.status, Status::Accepted);
    auto part = api_outcome(200, R"({"results":{"total_rejected_recipients":1,"total_accepted_recipients":1,"id":"12"}})", c);
    EXPECT_EQ(part.status, Status::Partial);
    auto none = api_outcome(200, R"({"results":{"total_accepted_recipients":0}})", c);
    EXPECT_EQ(none.status, Status::PermFail);
    auto unauth = api_outcome(401, R"({"errors":[{"message":"Unauthorized."}]})", c);
    EXPECT_EQ(unauth.status, Status::PermFail);
    EXPECT_EQ(unauth.detail, "HTTP 401: Unauthorized.");
    auto busy = api_outcome(503, "<html>busy</html>", c);
    EXPECT_EQ(busy.status, Status::TempFail);
    EXPECT_EQ(busy.detail, "HTTP 503: <html>busy</html>");
    auto odd = api_outcome(200, "not json", c);
    EXPECT_EQ(odd.status, Status::TempFail);  // never claim success we cannot see
}

TEST(ApiOutcome, ErrorTextJoinsMessagesDescriptionsAndCodes) {
    EXPECT_EQ(api_error_text(R"({"errors":[{"message":"invalid data format/type","description":"bad campaign","code":"1300"},{"message":"second"}]})"),
              "invalid data format/type: bad campaign (code 1300); second");
    EXPECT_TRUE(api_status_retryable(429));
    EXPECT_TRUE(api_status_retryable(502));
    EXPECT_FALSE(api_status_retryable(400));
}

TEST(ApiSettings, BareHostsBecomeHttpsAndTheVersionPathIsNotDoubled) {
    EXPECT_EQ(normalise_api_base("api.eu.sparkpost.com"), "https://api.eu.sparkpost.com");
    EXPECT_EQ(normalise_api_base("https://demo.example.com/api/v1/"), "https://demo.example.com");
    EXPECT_EQ(normalise_api_base("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    EXPECT_THROW(normalise_api_base("ftp://x.example.com"), Error);
    EXPECT_THROW(normalise_api_base("https://x.example.com/other"), Error);
}

TEST(ApiSettings, DefaultsToTheUsEndpointAndNeedsAKeyThatIsNeverDescribed) {
    Config c;
    EXPECT_THROW(ApiSettings::from_config(c, no_env()), Error);
    c.set("api", "key", "k-Secret-1");
    auto s = ApiSettings::from_config(c, no_env());
    EXPECT_EQ(s.endpoint(), "https://api.sparkpost.com/api/v1/transmissions");
    EXPECT_EQ(s.campaign, "sealpost");
    EXPECT_EQ(s.describe().find("k-Secret-1"), std::string::npos);
    auto env = [](const char* n) -> const char* { return std::string(n) == "SPARKPOST_HOST" ? "api.eu.sparkpost.com" : nullptr; };
    c.set("relay", "api", "env");
    EXPECT_EQ(ApiSettings::from_config(c, env).base, "https://api.eu.sparkpost.com");
    c.set("api", "campaign", std::string(65, 'x'));
    EXPECT_THROW(ApiSettings::from_config(c, no_env()), Error);
}
