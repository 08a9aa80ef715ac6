// collector_collect_test.cpp: collect_message() on generated fixtures: every
// case of issue 4's Tests section, asserting on the verdict, the stored bytes
// and the recorded evidence.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "cert_info.hpp"
#include "log.hpp"
#include "collector_support.hpp"

namespace sealpost::test {
namespace {

std::string fp_of_file(const std::string& path) { return sha256_fingerprint(read_certificate_pem(slurp(path)).get()); }
std::string user_crt(const std::string& base) { return pki() + "/users/" + base + ".crt"; }

// ------------------------------------------------------------ the table --
struct Case {
    const char* fixture;
    VerdictReason reason;
    const char* text;  // a substring of the verdict text
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.fixture; }

class CollectsFixture : public CollectorTest, public ::testing::WithParamInterface<Case> {};

TEST_P(CollectsFixture, ReachesTheExpectedVerdictAndStoresOnlyWhenAccepted) {
    const Case& c = GetParam();
    Verdict v = collect_fixture(c.fixture);
    EXPECT_EQ(to_string(v.reason), std::string(to_string(c.reason))) << v.text;
    EXPECT_NE(v.text.find(c.text), std::string::npos) << "verdict text: " << v.text;
    if (v.outcome == VerdictOutcome::Rejected) {
        EXPECT_EQ(all_files(), std::vector<std::string>{}) << "a rejected message wrote something";
    } else {
        EXPECT_TRUE(fs::exists(crt(v.address)));
        EXPECT_EQ(fp_of_file(crt(v.address)), v.fingerprint);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Issue4, CollectsFixture,
    ::testing::Values(
        Case{"valid-detached", VerdictReason::Stored, "stored"},
        Case{"valid-detached-lf", VerdictReason::Stored, "stored"},
        Case{"valid-detached-8bit", VerdictReason::Stored, "stored"},
        Case{"valid-opaque", VerdictReason::Stored, "stored"},
        Case{"certs-only", VerdictReason::Stored, "stored"},
        Case{"legacy-x-detached", VerdictReason::Stored, "stored"},
        Case{"legacy-x-opaque", VerdictReason::Stored, "stored"},
        Case{"opaque-octet-stream-hint", VerdictReason::Stored, "stored"},
        Case{"ec-signer", VerdictReason::Stored, "stored"},
        Case{"split-sign-enc", VerdictReason::Stored, "stored"},
        Case{"legacy-subject-email", VerdictReason::Stored, "stored"},
        Case{"nested-detached", VerdictReason::Stored, "stored"},
        Case{"from-uppercase", VerdictReason::Stored, "stored"},
        Case{"two-dkim-first-misaligned", VerdictReason::Stored, "stored"},
        Case{"two-dkim-broken-then-good", VerdictReason::Stored, "stored"},
        Case{"dkim-l-tag-intact", VerdictReason::Stored, "stored"},
        Case{"split-sign-only", VerdictReason::CannotEncrypt, "certificate cannot be used for encryption"},
        Case{"signonly", VerdictReason::CannotEncrypt, "certificate cannot be used for encryption"},
        Case{"no-dkim", VerdictReason::DkimFailed, "no DKIM signature"},
        Case{"broken-dkim", VerdictReason::DkimFailed, "DKIM failed"},
        Case{"misaligned-dkim", VerdictReason::DkimFailed, "not aligned"},
        Case{"subdomain-dkim", VerdictReason::DkimFailed, "(strict)"},
        Case{"weak-dkim", VerdictReason::DkimFailed, "smaller than 1024"},
        Case{"dkim-l-tag-appended", VerdictReason::DkimFailed, "body bytes unsigned"},
        Case{"fake-signature", VerdictReason::MalformedSignature, "not a CMS structure"},
        Case{"corrupted-signature", VerdictReason::SignatureInvalid, "signature does not verify"},
        Case{"body-changed", VerdictReason::SignatureInvalid, "signature does not verify"},
        Case{"embedded-differs", VerdictReason::MalformedSignature, "embedded content"},
        Case{"wrong-address", VerdictReason::AddressMismatch, "someone-else@example.com"},
        Case{"other-persons-cert", VerdictReason::AddressMismatch, "not the From address bob@example.com"},
        Case{"expired", VerdictReason::CertificateExpired, "expired"},
        Case{"not-yet-valid", VerdictReason::CertificateExpired, "not yet valid"},
        Case{"untrusted", VerdictReason::CertificateUntrusted, "signer certificate"},
        Case{"self-signed", VerdictReason::CertificateUntrusted, "self-signed"},
        Case{"no-email-protection", VerdictReason::CertificatePurpose, "purpose"},
        Case{"encrypted", VerdictReason::Encrypted, "encrypted; cannot read"},
        Case{"only-cert-attachment", VerdictReason::NoSmime, "outside multipart/signed"},
        Case{"truncated-base64", VerdictReason::MalformedSignature, "not a CMS structure"},
        Case{"garbage-der", VerdictReason::MalformedSignature, "not a CMS structure"},
        Case{"hostile-der-nesting", VerdictReason::MalformedSignature, "not a CMS structure"},
        Case{"hostile-der-length", VerdictReason::MalformedSignature, "not a CMS structure"},
        Case{"two-from", VerdictReason::BadFrom, "2 From headers"},
        Case{"from-two-mailboxes", VerdictReason::BadFrom, "2 mailboxes"},
        Case{"from-path-trick", VerdictReason::BadFrom, "unsafe"},
        Case{"from-slash", VerdictReason::BadFrom, "path separator"},
        Case{"from-idn", VerdictReason::DkimFailed, "no DKIM signature"}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
        std::string n = param_info.param.fixture;
        for (char& ch : n)
            if (ch == '-') ch = '_';
        return n;
    });

// ------------------------------------------------------ specific checks --
TEST_F(CollectorTest, ValidDetachedStoresExactlyTheSignerCertificateAsPem) {
    Verdict v = collect_fixture("valid-detached");
    ASSERT_EQ(v.reason, VerdictReason::Stored) << v.text;
    EXPECT_EQ(v.address, "alice@example.com");
    X509Ptr alice = read_certificate_pem(slurp(user_crt("alice@example.com")));
    EXPECT_EQ(slurp(crt("alice@example.com")), certificate_pem(alice.get()));
    EXPECT_EQ(v.fingerprint, sha256_fingerprint(alice.get()));
}

TEST_F(CollectorTest, TheLogDescribesTheSignerCertificateWhenItsLinesAreWritten) {
    // The description is made only for a line some sink writes (DescribedCert):
    // with a log file at info, it is there in full, fingerprint included.
    LogOptions o;
    o.quiet = true;
    o.file = (dir_ / "collect.log").string();
    setup_logging(o);
    struct Restore {
        ~Restore() { setup_logging(LogOptions{}); }
    } restore;  // the default logger again, whatever happens below
    Verdict v = collect_fixture("valid-detached");
    log()->flush();
    ASSERT_EQ(v.reason, VerdictReason::Stored) << v.text;
    std::string text;
    for (const auto& e : fs::directory_iterator(dir_))
        if (e.path().filename().string().rfind("collect", 0) == 0) text += slurp(e.path());
    X509Ptr alice = read_certificate_pem(slurp(user_crt("alice@example.com")));
    auto line = text.find("Certificate (signer): ");
    ASSERT_NE(line, std::string::npos) << text;
    std::string rest = text.substr(line, text.find('\n', line) - line);
    EXPECT_NE(rest.find(describe_certificate(alice.get())), std::string::npos) << rest;
    EXPECT_NE(rest.find("sha256=" + sha256_fingerprint(alice.get())), std::string::npos) << rest;
}

TEST_F(CollectorTest, StoredEvidenceRecordsDkimChainCapabilitiesAndSigner) {
    Verdict v = collect_fixture("valid-detached");
    ASSERT_TRUE(v.accepted()) << v.text;
    auto j = nlohmann::json::parse(slurp(json("alice@example.com")));
    EXPECT_EQ(j["address"], "alice@example.com");
    EXPECT_EQ(j["fingerprint"], v.fingerprint);
    EXPECT_EQ(j["source"], "collect");
    EXPECT_EQ(j["message_id"], "detached-alice.example.com@example.com");
    EXPECT_EQ(j["dkim"]["domain"], "example.com");
    EXPECT_EQ(j["dkim"]["selector"], "sel");
    ASSERT_TRUE(j["signing_time"].is_string());
    EXPECT_TRUE(parse_iso_time(j["signing_time"].get<std::string>()));
    EXPECT_TRUE(parse_iso_time(j["collected_at"].get<std::string>()));
    ASSERT_EQ(j["chain_sha256"].size(), 3u);
    EXPECT_EQ(j["chain_sha256"][0], v.fingerprint);
    EXPECT_EQ(j["chain_sha256"][2], fp_of_file(pki() + "/ca/root.crt"));
    EXPECT_EQ(j["not_after"], format_time(not_after(read_certificate_pem(slurp(crt("alice@example.com"))).get())));
    // openssl cms announces AES-256-CBC first.
    ASSERT_TRUE(j["capabilities"].is_array());
    ASSERT_FALSE(j["capabilities"].empty());
    EXPECT_EQ(j["capabilities"][0], "AES-256-CBC");
    EXPECT_EQ(j["signer_fingerprint"], v.fingerprint);
}

TEST_F(CollectorTest, SeparateEncryptionCertificateIsStoredAndSignerRecorded) {
    Verdict v = collect_fixture("split-sign-enc");
    ASSERT_EQ(v.reason, VerdictReason::Stored) << v.text;
    EXPECT_EQ(v.fingerprint, fp_of_file(user_crt("split@example.com.enc")));
    auto j = nlohmann::json::parse(slurp(json("split@example.com")));
    EXPECT_EQ(j["signer_fingerprint"], fp_of_file(user_crt("split@example.com.sign")));
    EXPECT_EQ(j["chain_sha256"][0], v.fingerprint);
}

TEST_F(CollectorTest, EcSignerWithKeyAgreementIsStored) {
    Verdict v = collect_fixture("ec-signer");
    ASSERT_EQ(v.reason, VerdictReason::Stored) << v.text;
    EXPECT_EQ(v.fingerprint, fp_of_file(user_crt("dave@example.org")));
}

TEST_F(CollectorTest, SameCertificateTwiceIsAlreadyCurrentAndLeavesTheFileUntouched) {
    ASSERT_EQ(collect_fixture("valid-detached").reason, VerdictReason::Stored);
    struct stat before {}, after {};
    ASSERT_EQ(::stat(crt("alice@example.com").c_str(), &before), 0);
    std::string json_before = slurp(json("alice@example.com"));
    Verdict v = collect_fixture("valid-detached");
    EXPECT_EQ(v.outcome, VerdictOutcome::AlreadyCurrent) << v.text;
    EXPECT_EQ(v.reason, VerdictReason::AlreadyCurrent);
    ASSERT_EQ(::stat(crt("alice@example.com").c_str(), &after), 0);
    EXPECT_EQ(before.st_ino, after.st_ino);
    EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    EXPECT_EQ(json_before, slurp(json("alice@example.com")));
}

TEST_F(CollectorTest, OlderCertificateReplayedAfterNewerIsIgnored) {
    ASSERT_EQ(collect_fixture("bob-new").reason, VerdictReason::Stored);
    std::string stored = slurp(crt("bob@example.com"));
    Verdict v = collect_fixture("bob-old");
    EXPECT_EQ(v.outcome, VerdictOutcome::AlreadyCurrent);
    EXPECT_EQ(v.reason, VerdictReason::OlderIgnored) << v.text;
    EXPECT_NE(v.text.find("older certificate ignored"), std::string::npos);
    EXPECT_EQ(slurp(crt("bob@example.com")), stored);
    EXPECT_EQ(fp_of_file(crt("bob@example.com")), fp_of_file(user_crt("bob@example.com")));
}

TEST_F(CollectorTest, NewerCertificateReplacesOlder) {
    ASSERT_EQ(collect_fixture("bob-old").reason, VerdictReason::Stored);
    Verdict v = collect_fixture("bob-new");
    EXPECT_EQ(v.outcome, VerdictOutcome::Stored);
    EXPECT_EQ(v.reason, VerdictReason::Replaced);
    EXPECT_NE(v.text.find(fp_of_file(user_crt("bob@example.com.old"))), std::string::npos) << v.text;
    EXPECT_EQ(fp_of_file(crt("bob@example.com")), fp_of_file(user_crt("bob@example.com")));
}

TEST_F(CollectorTest, RelaxedAlignmentAcceptsAnAlignedSubdomain) {
    options.alignment = DkimAlignment::Relaxed;
    Verdict v = collect_fixture("subdomain-dkim");
    ASSERT_EQ(v.reason, VerdictReason::Stored) << v.text;
    auto j = nlohmann::json::parse(slurp(json("alice@example.com")));
    EXPECT_EQ(j["dkim"]["domain"], "mail.example.com");
}

TEST_F(CollectorTest, RelaxedAlignmentStillRejectsAnotherOrganisation) {
    options.alignment = DkimAlignment::Relaxed;
    EXPECT_EQ(collect_fixture("misaligned-dkim").reason, VerdictReason::DkimFailed);
}

TEST_F(CollectorTest, DkimIgnoreAcceptsUnsignedMailAndRecordsNoDkimEvidence) {
    options.dkim = DkimMode::Ignore;
    Verdict v = collect_fixture("no-dkim");
    ASSERT_EQ(v.reason, VerdictReason::Stored) << v.text;
    auto j = nlohmann::json::parse(slurp(json("alice@example.com")));
    EXPECT_TRUE(j["dkim"].is_null());
}

TEST_F(CollectorTest, CertsOnlyIsRefusedWhenDkimIsIgnored) {
    options.dkim = DkimMode::Ignore;
    Verdict v = collect_fixture("certs-only");
    EXPECT_EQ(v.reason, VerdictReason::CertsOnlyRefused) << v.text;
    EXPECT_FALSE(fs::exists(crt("carol@example.net")));
}

TEST_F(CollectorTest, CertsOnlyRecordsNoSignerEvidenceButTheCertificate) {
    Verdict v = collect_fixture("certs-only");
    ASSERT_EQ(v.reason, VerdictReason::Stored) << v.text;
    auto j = nlohmann::json::parse(slurp(json("carol@example.net")));
    EXPECT_TRUE(j["signing_time"].is_null());
    EXPECT_TRUE(j["capabilities"].empty());
    EXPECT_EQ(j["dkim"]["domain"], "example.net");
}

TEST_F(CollectorTest, ExpiredCertificateIsAcceptedWhenJudgedAtATimeItWasValid) {
    options.at = parse_iso_time("2020-06-01T00:00:00Z");
    Verdict v = collect_fixture("expired");
    EXPECT_EQ(v.reason, VerdictReason::Stored) << v.text;
}

TEST_F(CollectorTest, UppercaseFromIsStoredUnderTheNormalisedAddress) {
    Verdict v = collect_fixture("from-uppercase");
    ASSERT_EQ(v.reason, VerdictReason::Stored) << v.text;
    EXPECT_EQ(v.address, "alice@example.com");
    EXPECT_TRUE(fs::exists(crt("alice@example.com")));
}

TEST_F(CollectorTest, IdnFromIsNormalisedToAsciiBeforeAnyComparison) {
    options.dkim = DkimMode::Ignore;
    Verdict v = collect_fixture("from-idn");
    EXPECT_EQ(v.reason, VerdictReason::AddressMismatch) << v.text;
    EXPECT_EQ(v.address, "juergen@xn--bcher-kva.example");
    EXPECT_EQ(all_files(), std::vector<std::string>{});
}

TEST_F(CollectorTest, PathTrickInFromNeverReachesTheFileSystem) {
    options.dkim = DkimMode::Ignore;
    Verdict v = collect_fixture("from-path-trick");
    EXPECT_EQ(v.reason, VerdictReason::BadFrom);
    EXPECT_EQ(all_files(), std::vector<std::string>{});
    EXPECT_FALSE(fs::exists(dir_ / "x@example.com.crt"));
}

}  // namespace
}  // namespace sealpost::test
