// invite_test.cpp: issue 13's pure parts: [invite] and its templates
// (placeholders, broken templates are Error(Config): exit 78 at start),
// durations, exclusion, the per-domain/per-recipient policy (most specific
// wins) and the copy plan that refuses one recipient under encrypt=always
// while the others keep their copies, and the wanted recorder's batching.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cert_store_files.hpp"
#include "delivery_outcome.hpp"
#include "errors.hpp"
#include "invite_options.hpp"
#include "recipient_policy.hpp"
#include "wanted_recorder.hpp"

using namespace sealpost;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/sealpost-invite-test.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

Config config_from(const TempDir& d, const std::string& text) {
    auto p = d.path / "sealpost.ini";
    std::ofstream(p) << text;
    return Config::load(p.string());
}

std::string config_error(const TempDir& d, const std::string& text) {
    try {
        auto c = config_from(d, text);
        InviteOptions::from_config(c);
        RecipientPolicy::from_config(c);
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Config) << e.what();
        return e.what();
    }
    return "";
}

std::vector<std::string> addresses(const CopyPlan& p) {
    std::vector<std::string> out;
    for (const auto& r : p.recipients) out.push_back(r.address);
    return out;
}

}  // namespace

TEST(InviteTemplate, PlaceholdersAreFilledAndTheMailIsAutoSubmitted) {
    auto t = InviteTemplate::parse("Subject: Hello {address}\nX-Campaign: c1\n\nSend to {collect_address} {{literal}}.\n"
                                   "--- html ---\n<p>{address} & {from}</p>\n",
                                   "test");
    std::string m = t.render("service@bank.example", "bob@example.com",
                             {{"address", "<bob@example.com>"}, {"collect_address", "secureme@bank.example"},
                              {"from", "service@bank.example"}});
    EXPECT_NE(m.find("From: <service@bank.example>\r\n"), std::string::npos) << m;
    EXPECT_NE(m.find("To: <bob@example.com>\r\n"), std::string::npos);
    EXPECT_NE(m.find("Subject: Hello <bob@example.com>\r\n"), std::string::npos);
    EXPECT_NE(m.find("X-Campaign: c1\r\n"), std::string::npos);
    EXPECT_NE(m.find("Auto-Submitted: auto-generated\r\n"), std::string::npos);
    EXPECT_NE(m.find("Send to secureme@bank.example {literal}."), std::string::npos);
    EXPECT_NE(m.find("multipart/alternative"), std::string::npos);
    EXPECT_NE(m.find("<p>&lt;bob@example.com&gt; & service@bank.example</p>"), std::string::npos)
        << "values are HTML-escaped in the HTML part";
    EXPECT_EQ(m.find("Message-ID"), std::string::npos) << "the send pipeline makes the Message-ID";
}

TEST(InviteTemplate, BrokenTemplatesAreConfigurationErrorsNamingTheLine) {
    auto err = [](const std::string& text) -> std::string {
        try {
            InviteTemplate::parse(text, "t.tmpl");
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Config);
            return e.what();
        }
        return "";
    };
    EXPECT_NE(err("Subject: x\n\nHello {adress}\n").find("t.tmpl:3: unknown placeholder {adress}"), std::string::npos);
    EXPECT_NE(err("Subject: x\n\nHello {address\n").find("'{' without '}'"), std::string::npos);
    EXPECT_NE(err("X-A: b\n\nbody\n").find("no Subject"), std::string::npos);
    EXPECT_NE(err("Subject: x\nFrom: a@b\n\nbody\n").find("From: is set by sealpost"), std::string::npos);
    EXPECT_NE(err("Subject: x\n\n\n").find("empty text body"), std::string::npos);
    EXPECT_NE(err("Subject: x\nbody without blank line\n").find("t.tmpl:2"), std::string::npos);
}

TEST(InviteTemplate, TheShippedTemplatesParse) {
    for (auto name : {"invite.tmpl", "renew.tmpl", "confirm.tmpl"})
        EXPECT_NO_THROW(InviteTemplate::load(std::string(SEALPOST_SOURCE_DIR) + "/examples/" + name)) << name;
    EXPECT_NO_THROW(InviteTemplate::parse(default_invite_template(), "built-in"));
}

TEST(InviteOptions, DefaultsDurationsAndExclusion) {
    TempDir d;
    auto c = config_from(d, "[invite]\nenabled = yes\ncollect-address = SecureMe@Bank.Example\nfrom = service@bank.example\n"
                            "interval = 2w\nrenew-before = 10d\nmax-per-day = 5\nexclude = vip@example.com, @example.org, "
                            "corp.example\n");
    auto o = InviteOptions::from_config(c);
    EXPECT_TRUE(o.enabled);
    EXPECT_EQ(o.collect_address, "secureme@bank.example");
    EXPECT_EQ(o.interval, 14 * 86400);
    EXPECT_EQ(o.renew_before, 10 * 86400);
    EXPECT_EQ(o.max_per_day, 5);
    EXPECT_TRUE(o.excluded("vip@example.com"));
    EXPECT_FALSE(o.excluded("other@example.com"));
    EXPECT_TRUE(o.excluded("x@example.org"));
    EXPECT_TRUE(o.excluded("x@mail.corp.example"));
    EXPECT_FALSE(o.excluded("x@notcorp.example"));
    EXPECT_EQ(parse_invite_duration("30d"), 30 * 86400);
    EXPECT_EQ(parse_invite_duration("90"), 90);
    EXPECT_FALSE(parse_invite_duration("soon"));
    EXPECT_FALSE(parse_invite_duration("-3d"));
}

TEST(InviteOptions, BadValuesAreExit78AtStart) {
    TempDir d;
    EXPECT_NE(config_error(d, "[invite]\nenabled = yes\nfrom = s@bank.example\n").find("collect-address is required"),
              std::string::npos);
    EXPECT_NE(config_error(d, "[invite]\ninterval = monthly\n").find("[invite] interval = 'monthly'"), std::string::npos);
    std::ofstream(d.path / "bad.tmpl") << "Subject: hi {name}\n\nbody\n";
    EXPECT_NE(config_error(d, "[invite]\ntemplate = " + (d.path / "bad.tmpl").string() + "\n")
                  .find("unknown placeholder {name}"),
              std::string::npos);
    EXPECT_NE(config_error(d, "[invite]\ntemplate = /nonexistent/x.tmpl\n").find("no such file"), std::string::npos);
    EXPECT_NE(config_error(d, "[invite]\nenabeld = yes\n").find("did you mean 'enabled'"), std::string::npos);
    EXPECT_NE(config_error(d, "[domain example.com]\nencrypt = sometimes\n").find("[domain example.com]"),
              std::string::npos);
    EXPECT_NE(config_error(d, "[domain example.com]\nencrpyt = always\n").find("did you mean 'encrypt'"),
              std::string::npos);
    EXPECT_NE(config_error(d, "[recipient not an address]\nencrypt = always\n").find("is not an address"),
              std::string::npos);
}

TEST(RecipientPolicy, MostSpecificWinsKeyByKey) {
    TempDir d;
    auto c = config_from(d, "[domain example.com]\nencrypt = always\ncipher = aes-128-gcm\ninvite = no\n"
                            "[domain sub.example.com]\nencrypt = never\n"
                            "[recipient alice@example.com]\nencrypt = auto\n");
    auto p = RecipientPolicy::from_config(c);
    auto bob = p.lookup("bob@example.com");
    EXPECT_EQ(bob.encrypt, EncryptMode::Always);
    EXPECT_EQ(bob.encrypt_source, "[domain example.com]");
    EXPECT_EQ(bob.cipher, Cipher::Aes128Gcm);
    EXPECT_EQ(bob.invite, false);
    auto alice = p.lookup("alice@example.com");
    EXPECT_EQ(alice.encrypt, EncryptMode::Auto);
    EXPECT_EQ(alice.cipher, Cipher::Aes128Gcm) << "the domain's cipher still applies";
    EXPECT_EQ(p.lookup("x@sub.example.com").encrypt, EncryptMode::Never);
    EXPECT_EQ(p.lookup("x@deep.sub.example.com").encrypt, EncryptMode::Never);
    EXPECT_FALSE(p.lookup("x@example.net").encrypt);
}

TEST(RecipientPolicy, DomainAlwaysRefusesOnlyTheRecipientWithoutCertificate) {
    TempDir d;
    auto c = config_from(d, "[domain example.org]\nencrypt = always\n");
    auto policy = RecipientPolicy::from_config(c);
    FilesCertStore store(std::string(SEALPOST_PKI) + "/store");
    // bob: cert (auto); frank@example.org: none (always: refused); dave@example.org: cert (always: encrypted);
    // zed@example.net: none (auto: in clear).
    std::vector<Mailbox> rcpts{{"", "bob@example.com"}, {"", "frank@example.org"}, {"", "dave@example.org"},
                               {"", "zed@example.net"}};
    std::vector<PolicyRefusal> refused;
    std::vector<PlanNote> notes;
    auto plans = plan_copies_with_policy(rcpts, &store, EncryptMode::Auto, /*mix_key_types=*/true, std::time(nullptr),
                                         &policy, &notes, nullptr, &refused);
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].recipient.address, "frank@example.org");
    EXPECT_NE(refused[0].reason.find("encrypt=always ([domain example.org])"), std::string::npos) << refused[0].reason;
    ASSERT_EQ(plans.size(), 2u) << "the groups' copies merge: one encrypted copy (dave is EC: mixed), one not encrypted";
    EXPECT_TRUE(plans[0].encrypted);
    EXPECT_EQ(addresses(plans[0]), (std::vector<std::string>{"bob@example.com", "dave@example.org"}));
    EXPECT_FALSE(plans[1].encrypted);
    EXPECT_EQ(addresses(plans[1]), std::vector<std::string>{"zed@example.net"});
}

TEST(RecipientPolicy, WithoutSectionsThePlanIsPlanCopies) {
    FilesCertStore store(std::string(SEALPOST_PKI) + "/store");
    RecipientPolicy none;
    std::vector<Mailbox> rcpts{{"", "bob@example.com"}, {"", "frank@example.org"}};
    EXPECT_THROW(plan_copies_with_policy(rcpts, &store, EncryptMode::Always, false, std::time(nullptr), &none, nullptr,
                                         nullptr, nullptr),
                 Error)
        << "[sender] encrypt = always still refuses the whole message";
}

TEST(WantedRecorder, BatchesAndSkipsAddressesRecordedWithinTheHour) {
    TempDir d;
    FilesCertStore store(d.path / "store");
    {
        WantedRecorder rec(store, std::chrono::seconds(3600), 1000);
        rec.add("bob@example.org", InviteReason::NoCertificate, 1000);
        rec.add("carol@example.org", InviteReason::Expiring, 1000);
        EXPECT_EQ(rec.pending(), 2u);
        EXPECT_TRUE(store.invitations().empty()) << "nothing written before the batch is due";
        EXPECT_TRUE(rec.flush());
        rec.add("bob@example.org", InviteReason::NoCertificate, 1500);
        EXPECT_EQ(rec.pending(), 0u) << "recorded within the hour";
        rec.add("bob@example.org", InviteReason::NoCertificate, 1000 + 3600);
        EXPECT_EQ(rec.pending(), 1u);
    }  // the destructor writes the rest
    auto all = store.invitations();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].address, "bob@example.org");
    EXPECT_EQ(all[0].wanted_count, 2);
    EXPECT_EQ(all[0].wanted_at, 1000 + 3600);
    EXPECT_EQ(all[1].reason, InviteReason::Expiring);
    EXPECT_EQ(invite_reason_for("certificate revoked"), InviteReason::Revoked);
    EXPECT_EQ(invite_reason_for("certificate expired 2025-01-01"), InviteReason::Expiring);
    EXPECT_EQ(invite_reason_for("no certificate collected"), InviteReason::NoCertificate);
}

TEST(PolicyRefusal, CountsAsRefusedInTheOneTable) {
    OutputCopy refused;
    refused.recipients = {{"", "frank@example.org"}};
    refused.refusal = "encrypt=always ([domain example.org]) and no usable certificate for frank@example.org";
    auto r = policy_refusal(refused);
    EXPECT_EQ(r.status, DeliveryResult::Status::PermFail);
    ASSERT_EQ(r.recipients.size(), 1u);
    EXPECT_EQ(r.recipients[0].code, 550);
    DeliveryResult ok;
    ok.status = DeliveryResult::Status::Accepted;
    auto partly = summarize_delivery({ok, r});
    EXPECT_EQ(partly.outcome, MessageOutcome::PartlyRejected);
    EXPECT_EQ(exit_code_for(partly.outcome), 69);
    EXPECT_EQ(smtp_reply_for(partly).substr(0, 4), "250 ");
    auto all = summarize_delivery({r});
    EXPECT_EQ(all.outcome, MessageOutcome::Rejected);
    EXPECT_EQ(smtp_reply_for(all).substr(0, 30), "554 5.7.1 refused by policy: e");
    EXPECT_NE(smtp_reply_for(all).find("refused by policy"), std::string::npos);
}
