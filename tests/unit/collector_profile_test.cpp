// collector_profile_test.cpp: the certificate profile (issue 12) on
// generated fixtures: the always-rules (weak-algorithm, weak-key, CA:TRUE
// leaf, extendedKeyUsage, S/MIME purpose of the chain on every store path)
// and profile = standard | strict. Each rejection must store nothing.
#include "cert_info.hpp"
#include "collector_support.hpp"
#include "errors.hpp"

namespace sealpost::test {
namespace {

struct ProfileCase {
    const char* fixture;
    CertProfile profile;
    VerdictReason reason;
    const char* text;  // a substring of the verdict text
};

void PrintTo(const ProfileCase& c, std::ostream* os) { *os << c.fixture << "/" << to_string(c.profile); }

class ProfileFixture : public CollectorTest, public ::testing::WithParamInterface<ProfileCase> {};

TEST_P(ProfileFixture, ReachesTheExpectedVerdictAndStoresOnlyWhenAccepted) {
    const ProfileCase& c = GetParam();
    options.profile = c.profile;
    Verdict v = collect_fixture(c.fixture);
    EXPECT_EQ(to_string(v.reason), std::string(to_string(c.reason))) << v.text;
    EXPECT_NE(v.text.find(c.text), std::string::npos) << "verdict text: " << v.text;
    if (v.outcome == VerdictOutcome::Rejected)
        EXPECT_EQ(all_files(), std::vector<std::string>{}) << "a rejected message wrote something";
    else
        EXPECT_TRUE(fs::exists(crt(v.address)));
}

constexpr auto Std = CertProfile::Standard;
constexpr auto Strict = CertProfile::Strict;

INSTANTIATE_TEST_SUITE_P(
    Issue12, ProfileFixture,
    ::testing::Values(
        // Always, in every profile.
        ProfileCase{"weak-key-rsa1024", Std, VerdictReason::WeakKey, "RSA-1024"},
        ProfileCase{"weak-key-secp256k1", Std, VerdictReason::WeakKey, "secp256k1"},
        ProfileCase{"sha1-message-digest", Std, VerdictReason::WeakAlgorithm, "SHA1"},
        ProfileCase{"md5-message-digest", Std, VerdictReason::WeakAlgorithm, "MD5"},
        ProfileCase{"sha1-leaf-signature", Std, VerdictReason::WeakAlgorithm, "certificate signed with SHA1"},
        ProfileCase{"sha1-intermediate", Std, VerdictReason::WeakAlgorithm, "SHA-1 Intermediate"},
        ProfileCase{"ca-true-leaf", Std, VerdictReason::CertificatePurpose, "CA:TRUE"},
        ProfileCase{"no-email-protection", Std, VerdictReason::CertificatePurpose, "purpose"},
        ProfileCase{"certs-only-no-email-protection", Std, VerdictReason::CertificatePurpose, "emailProtection"},
        ProfileCase{"certs-only-tls-intermediate", Std, VerdictReason::CertificatePurpose, "CA not allowed for S/MIME"},
        ProfileCase{"split-enc-tls-intermediate", Std, VerdictReason::CannotEncrypt, "cannot be used for encryption"},
        ProfileCase{"weak-key-rsa1024", Strict, VerdictReason::WeakKey, "RSA-1024"},
        ProfileCase{"sha1-intermediate", Strict, VerdictReason::WeakAlgorithm, "SHA-1 Intermediate"},
        // Suspicious usages are logged, not refused.
        ProfileCase{"eku-also-server-auth", Std, VerdictReason::Stored, "stored"},
        // standard: subject emailAddress only when there is no rfc822Name.
        ProfileCase{"legacy-subject-email", Std, VerdictReason::Stored, "stored"},
        ProfileCase{"no-eku", Std, VerdictReason::Stored, "stored"},
        ProfileCase{"no-key-usage", Std, VerdictReason::Stored, "stored"},
        ProfileCase{"ec-key-encipherment", Std, VerdictReason::Stored, "stored"},
        // strict: the S/MIME BR profile.
        ProfileCase{"valid-detached", Strict, VerdictReason::Stored, "stored"},
        ProfileCase{"ec-signer", Strict, VerdictReason::Stored, "stored"},
        ProfileCase{"legacy-subject-email", Strict, VerdictReason::AddressMismatch, "rfc822Name or SmtpUTF8Mailbox"},
        ProfileCase{"no-eku", Strict, VerdictReason::CertificatePurpose, "extendedKeyUsage is required"},
        ProfileCase{"no-key-usage", Strict, VerdictReason::CertificatePurpose, "keyUsage is required"},
        ProfileCase{"ec-key-encipherment", Strict, VerdictReason::CertificatePurpose, "not consistent"}),
    [](const ::testing::TestParamInfo<ProfileCase>& info) {
        std::string n = std::string(info.param.fixture) + "_" + to_string(info.param.profile);
        for (char& ch : n)
            if (ch == '-') ch = '_';
        return n;
    });

TEST(CollectOptionsProfile, ConfigNamesTheProfileAndRefusesOthers) {
    Config standard;
    EXPECT_EQ(CollectOptions::from_config(standard).profile, CertProfile::Standard);
    Config strict;
    strict.set("collector", "profile", "strict");
    EXPECT_EQ(CollectOptions::from_config(strict).profile, CertProfile::Strict);
    Config bad;
    bad.set("collector", "profile", "lenient");
    EXPECT_THROW(CollectOptions::from_config(bad), Error);
}

}  // namespace
}  // namespace sealpost::test
