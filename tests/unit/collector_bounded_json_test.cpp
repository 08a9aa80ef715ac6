// collector_bounded_json_test.cpp: the webhook body's JSON parse, bounded
// in one pass (bounded_json.hpp): the depth limit at exactly one bracket
// too many, wherever it is, and the reasons a rejected body gets.
#include <gtest/gtest.h>

#include <chrono>

#include "bounded_json.hpp"

namespace sealpost {
namespace {

std::string nested(std::size_t levels, const std::string& inner = "1") {
    return std::string(levels, '[') + inner + std::string(levels, ']');
}

TEST(BoundedJson, AcceptsExactlyTheDepthLimit) {
    std::string why;
    auto doc = parse_json_bounded(nested(kMaxJsonDepth), kMaxJsonDepth, why);
    ASSERT_TRUE(doc) << why;
    const nlohmann::json* v = &*doc;
    for (std::size_t i = 0; i < kMaxJsonDepth; ++i) v = &(*v)[0];
    EXPECT_EQ(*v, 1);
}

TEST(BoundedJson, RefusesOneLevelMore) {
    std::string why;
    EXPECT_FALSE(parse_json_bounded(nested(kMaxJsonDepth + 1), kMaxJsonDepth, why));
    EXPECT_EQ(why, "nested deeper than 64 levels");
}

TEST(BoundedJson, RefusesDepthInsideAnObjectAfterValidContent) {
    std::string body = R"({"a": [1, 2, {"b": "text"}], "deep": )" + nested(kMaxJsonDepth) + "}";
    std::string why;
    EXPECT_FALSE(parse_json_bounded(body, kMaxJsonDepth, why));  // the object is level 1: 65 in all
    EXPECT_EQ(why, "nested deeper than 64 levels");
    body = R"({"a": [1, 2, {"b": "text"}], "deep": )" + nested(kMaxJsonDepth - 1) + "}";
    EXPECT_TRUE(parse_json_bounded(body, kMaxJsonDepth, why)) << why;
}

TEST(BoundedJson, StopsAtTheFirstBracketTooManyOfAnUnclosedFlood) {
    // Four million '[' and nothing else: refused for depth, not parsed to
    // the end as malformed.
    std::string why;
    EXPECT_FALSE(parse_json_bounded(std::string(4'000'000, '['), kMaxJsonDepth, why));
    EXPECT_EQ(why, "nested deeper than 64 levels");
}

TEST(BoundedJson, ManyMembersOfOneContainerCostLinearTime) {
    // 300,000 empty objects in one array, and as many keys in one object
    // (900 KB-2.7 MB): linear, tens of milliseconds. nlohmann's callback
    // parser scans the parent at every closing brace: a minute each, a
    // denial of service by one webhook request. Bounded, not benchmarked: 10 s.
    std::string array = "[{}";
    std::string object = "{\"k0\":{}";
    for (int i = 1; i < 300'000; ++i) {
        array += ",{}";
        object += ",\"k" + std::to_string(i) + "\":{}";
    }
    array += "]";
    object += "}";
    for (const std::string* body : {&array, &object}) {
        auto start = std::chrono::steady_clock::now();
        std::string why;
        auto doc = parse_json_bounded(*body, kMaxJsonDepth, why);
        auto took = std::chrono::steady_clock::now() - start;
        ASSERT_TRUE(doc) << why;
        EXPECT_EQ(doc->size(), 300'000u);
        EXPECT_LT(took, std::chrono::seconds(10)) << "quadratic in the members of one container";
    }
}

TEST(BoundedJson, SaysWhereAMalformedBodyBreaks) {
    std::string why;
    EXPECT_FALSE(parse_json_bounded(R"([{"a": 1,}])", kMaxJsonDepth, why));
    EXPECT_EQ(why.rfind("malformed at byte 10: ", 0), 0u) << why;
    EXPECT_FALSE(parse_json_bounded("", kMaxJsonDepth, why));
    EXPECT_EQ(why.rfind("malformed at byte ", 0), 0u) << why;
    EXPECT_FALSE(parse_json_bounded("[1] trailing", kMaxJsonDepth, why));
    EXPECT_EQ(why.rfind("malformed at byte ", 0), 0u) << why;
    // nlohmann stops reading at a NUL: what follows it must not pass unseen.
    EXPECT_FALSE(parse_json_bounded(std::string("[1]\0junk", 8), kMaxJsonDepth, why));
    EXPECT_EQ(why, "malformed at byte 3: a NUL byte");
    // The reason stays a log line's size, whatever the token it quotes.
    EXPECT_FALSE(parse_json_bounded("[\"" + std::string(1 << 20, 'a') + "\xff\"]", kMaxJsonDepth, why));
    EXPECT_LT(why.size(), 400u);
}

TEST(BoundedJson, KeepsEveryValueOfAWebhookBatch) {
    std::string body = R"([{"msys": {"relay_message": {"content": {"email_rfc822": "From: a@example.com\r\n\r\nhi\u00e9"},
                          "msg_from": "a@example.com"}}}, {"msys": {}}])";
    std::string why;
    auto doc = parse_json_bounded(body, kMaxJsonDepth, why);
    ASSERT_TRUE(doc) << why;
    ASSERT_EQ(doc->size(), 2u);
    EXPECT_EQ((*doc)[0]["msys"]["relay_message"]["content"]["email_rfc822"], "From: a@example.com\r\n\r\nhi\xc3\xa9");
    EXPECT_EQ((*doc)[0]["msys"]["relay_message"]["msg_from"], "a@example.com");
    EXPECT_TRUE((*doc)[1]["msys"].empty());
}

}  // namespace
}  // namespace sealpost
