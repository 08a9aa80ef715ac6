// recipient_cert_test.cpp: a certificate already in the store that breaks
// an always-rule (issue 12: RSA-1024, SHA-1-signed, CA:TRUE) is never
// chosen for encryption at send, and the reason says why.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <unistd.h>

#include "cert_store_files.hpp"
#include "copy_plan.hpp"
#include "errors.hpp"
#include "recipient_cert.hpp"

using namespace sealpost;
namespace fs = std::filesystem;

namespace {

class WeakStoredCertificate : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("sealpost-weakstore-" + std::to_string(::getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
        const std::string users = std::string(SEALPOST_PKI) + "/users/";
        // As an older collector would have stored them: the .crt alone.
        for (const char* a : {"weak1024@example.com", "sha1leaf@example.com", "caleaf@example.com", "bob@example.com"})
            fs::copy_file(users + a + ".crt", dir / (std::string(a) + ".crt"));
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path dir;
};

TEST_F(WeakStoredCertificate, IsNotChosenAndTheReasonNamesTheRule) {
    FilesCertStore store(dir);
    const auto now = std::time(nullptr);
    auto weak = usable_recipient_certificate(store, "weak1024@example.com", now);
    EXPECT_FALSE(weak.cert);
    EXPECT_NE(weak.reason.find("weak-key"), std::string::npos) << weak.reason;
    EXPECT_NE(weak.reason.find("RSA-1024"), std::string::npos) << weak.reason;
    auto sha1 = usable_recipient_certificate(store, "sha1leaf@example.com", now);
    EXPECT_FALSE(sha1.cert);
    EXPECT_NE(sha1.reason.find("weak-algorithm"), std::string::npos) << sha1.reason;
    auto ca = usable_recipient_certificate(store, "caleaf@example.com", now);
    EXPECT_FALSE(ca.cert);
    EXPECT_NE(ca.reason.find("CA:TRUE"), std::string::npos) << ca.reason;
    EXPECT_TRUE(usable_recipient_certificate(store, "bob@example.com", now).cert);
}

TEST_F(WeakStoredCertificate, AutoSendsUnencryptedToItAndAlwaysRefuses) {
    FilesCertStore store(dir);
    std::vector<Mailbox> rcpts{{"", "bob@example.com"}, {"", "weak1024@example.com"}};
    std::vector<PlanNote> notes;
    auto plans = plan_copies(rcpts, &store, EncryptMode::Auto, false, std::time(nullptr), &notes);
    ASSERT_EQ(plans.size(), 2u);
    EXPECT_TRUE(plans[0].encrypted);
    ASSERT_EQ(plans[1].recipients.size(), 1u);
    EXPECT_EQ(plans[1].recipients[0].address, "weak1024@example.com");
    EXPECT_FALSE(plans[1].encrypted);
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_NE(notes[1].reason.find("weak-key"), std::string::npos) << notes[1].reason;
    try {
        plan_copies(rcpts, &store, EncryptMode::Always, false, std::time(nullptr));
        FAIL() << "encrypt=always used a weak certificate";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("weak1024@example.com"), std::string::npos) << e.what();
    }
}

}  // namespace
