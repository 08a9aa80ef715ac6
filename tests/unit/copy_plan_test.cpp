// copy_plan_test.cpp: who gets which copy. Hidden recipients (Bcc, or
// envelope-only in serve) each get a copy of their own, so no other
// recipient can read their issuer/serial in a shared EnvelopedData.
#include <gtest/gtest.h>

#include <ctime>
#include <set>

#include "cert_store_files.hpp"
#include "copy_plan.hpp"
#include "errors.hpp"

using namespace sealpost;

namespace {

std::vector<Mailbox> boxes(std::initializer_list<const char*> addrs) {
    std::vector<Mailbox> out;
    for (const char* a : addrs) out.push_back({"", a});
    return out;
}

std::vector<std::string> addresses(const CopyPlan& p) {
    std::vector<std::string> out;
    for (const auto& r : p.recipients) out.push_back(r.address);
    return out;
}

}  // namespace

TEST(CopyPlan, BccRecipientsGetACopyOfTheirOwn) {
    FilesCertStore store(std::string(SEALPOST_PKI) + "/store");
    // bob (To, RSA cert), carol (Bcc, RSA cert), erin (Bcc, EC cert),
    // frank (Cc, no cert), hidden (Bcc, no cert).
    auto rcpts = boxes({"bob@example.com", "frank@example.org", "carol@example.net", "erin@example.com",
                        "hidden@example.org"});
    std::set<std::string> hidden{"carol@example.net", "erin@example.com", "hidden@example.org"};
    auto plans = plan_copies(rcpts, &store, EncryptMode::Auto, /*mix_key_types=*/true, std::time(nullptr), nullptr,
                             &hidden);
    ASSERT_EQ(plans.size(), 5u);
    EXPECT_EQ(addresses(plans[0]), std::vector<std::string>{"bob@example.com"});
    EXPECT_TRUE(plans[0].encrypted);
    ASSERT_EQ(plans[0].certs.size(), 1u);
    EXPECT_EQ(plans[0].certs[0]->address, "bob@example.com");
    EXPECT_EQ(addresses(plans[1]), std::vector<std::string>{"frank@example.org"});
    EXPECT_FALSE(plans[1].encrypted);
    for (std::size_t i = 2; i < 5; ++i) {
        ASSERT_EQ(plans[i].recipients.size(), 1u) << plans[i].label;
        EXPECT_NE(plans[i].label.find("Bcc"), std::string::npos) << plans[i].label;
    }
    EXPECT_EQ(addresses(plans[2]), std::vector<std::string>{"carol@example.net"});
    ASSERT_EQ(plans[2].certs.size(), 1u);
    EXPECT_EQ(plans[2].certs[0]->address, "carol@example.net");
    EXPECT_EQ(addresses(plans[3]), std::vector<std::string>{"erin@example.com"});
    ASSERT_EQ(plans[3].certs.size(), 1u);
    EXPECT_EQ(plans[3].certs[0]->address, "erin@example.com");
    EXPECT_EQ(addresses(plans[4]), std::vector<std::string>{"hidden@example.org"});
    EXPECT_FALSE(plans[4].encrypted);
    EXPECT_TRUE(plans[4].certs.empty());
}

TEST(CopyPlan, WithoutHiddenRecipientsVisibleOnesShareByKeyType) {
    FilesCertStore store(std::string(SEALPOST_PKI) + "/store");
    auto rcpts = boxes({"bob@example.com", "carol@example.net", "dave@example.org", "frank@example.org"});
    auto plans = plan_copies(rcpts, &store, EncryptMode::Auto, false, std::time(nullptr));
    ASSERT_EQ(plans.size(), 3u);
    EXPECT_EQ(addresses(plans[0]), (std::vector<std::string>{"bob@example.com", "carol@example.net"}));
    EXPECT_EQ(addresses(plans[1]), std::vector<std::string>{"dave@example.org"});
    EXPECT_EQ(addresses(plans[2]), std::vector<std::string>{"frank@example.org"});
}

TEST(CopyPlan, EncryptAlwaysNamesAHiddenRecipientWithoutCertificate) {
    FilesCertStore store(std::string(SEALPOST_PKI) + "/store");
    auto rcpts = boxes({"bob@example.com", "hidden@example.org"});
    std::set<std::string> hidden{"hidden@example.org"};
    try {
        plan_copies(rcpts, &store, EncryptMode::Always, false, std::time(nullptr), nullptr, &hidden);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("hidden@example.org"), std::string::npos) << e.what();
    }
}
