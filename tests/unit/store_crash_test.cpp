// store_crash_test.cpp: the files backend's commit protocol under a crash in
// every window (issue 10). Each case builds the store's "before" state, then
// for n = 1, 2, ... forks a child that arms crash_point at its n-th step and
// runs the put: the child ends with _exit() there, as a kill -9 would. The
// parent then checks, with a fresh store (another process's view):
//   - what a reader sees is exactly the state before the put or after it:
//     the old certificate with its old metadata, or the new one with its
//     new metadata, every kept certificate with its own metadata;
//   - recover() (a writer's start) keeps that state and leaves no temporary,
//     no metadata without its certificate, no history copy of the current;
//   - the put done again (the relay's redelivery) ends in the state after.
// (The states before and after are those of a put without a crash; a put
// done again after its commit point is AlreadyCurrent, so the cases assert
// on what the store holds, not on the outcome.)
// n grows until the child finishes the put, so every window the protocol
// has (crash_point::hit in cert_store_files.cpp and atomic_file.cpp) is
// visited, including any a later change adds.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <sstream>

#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "cert_store_files.hpp"
#include "crash_point.hpp"

using namespace sealpost;
namespace fs = std::filesystem;

namespace {

const std::string kBob = "bob@example.com";

X509Ptr user_cert(const std::string& name) {
    auto pem = read_file(fs::path(SEALPOST_PKI) / "users" / (name + ".crt"));
    if (!pem) throw std::runtime_error("missing test certificate " + name);
    return read_certificate_pem(*pem);
}

CertMetadata meta_from(const std::string& message_id) {
    CertMetadata m;
    m.message_id = message_id;
    m.source = "webhook";
    m.capabilities = {"AES-256-CBC", message_id};
    m.dkim = DkimEvidence{"example.com", "sel"};
    return m;
}

// What a reader sees for bob: the current certificate and every kept one,
// each as "fingerprint-prefix:message_id" (an empty message id: the
// certificate has lost its metadata).
// Other addresses (kCarol, the second item of a batch) likewise.
const std::string kCarol = "carol@example.net";

std::string view_of(const FilesCertStore& store, const std::string& address) {
    std::ostringstream out;
    auto cur = store.get(address);
    out << "current=" << (cur ? cur->fingerprint.substr(0, 8) + ":" + cur->meta.message_id : "none");
    out << " kept=";
    for (const auto& sc : store.history(address))
        out << sc->fingerprint.substr(0, 8) << ":" << sc->meta.message_id << ":" << to_string(sc->meta.status) << " ";
    return out.str();
}

std::string view(const fs::path& dir) {
    FilesCertStore store(dir);
    std::ostringstream out;
    out << view_of(store, kBob);
    if (store.get(kCarol) || !store.history(kCarol).empty()) out << "| carol: " << view_of(store, kCarol);
    out << "addresses=" << store.addresses().size();
    return out.str();
}

// What recover() must leave nothing of.
std::vector<std::string> litter(const fs::path& dir) {
    std::vector<std::string> out;
    FilesCertStore store(dir);
    auto cur = store.get(kBob);
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (temporary_target(name)) out.push_back("temporary " + e.path().string());
        if (e.path().extension() == ".json" && !fs::exists(fs::path(e.path()).replace_extension(".crt")))
            out.push_back("metadata without certificate " + e.path().string());
        if (cur && e.path().parent_path().filename() == kBob && name == cur->fingerprint + ".crt")
            out.push_back("history copy of the current certificate " + e.path().string());
    }
    return out;
}

class StoreCrashTest : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() / ("sealpost-crash-test-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(base_);
    }
    void TearDown() override {
        crash_point::arm(0);
        fs::remove_all(base_);
    }

    // Runs the case: `setup` makes the state before, `op` is the put.
    // Returns how many windows crashed.
    // `between` (optional): a state a crash may also show (a batch with its
    // first item done and the second not), made by this op after `setup`.
    int run_every_window(const std::function<void(FilesCertStore&)>& setup,
                         const std::function<void(FilesCertStore&)>& op,
                         const std::function<void(FilesCertStore&)>& between = {}) {
        // The states before and after, and the names of the windows, from a
        // run without a crash.
        fs::path reference = base_ / "reference";
        { FilesCertStore s(reference); setup(s); }
        const std::string before = view(reference);
        crash_point::arm(1 << 30);
        { FilesCertStore s(reference); op(s); }
        const auto windows = crash_point::trail();
        crash_point::arm(0);
        const std::string after = view(reference);
        EXPECT_NE(before, after);
        EXPECT_TRUE(litter(reference).empty());
        std::string middle = before;
        if (between) {
            fs::path m = base_ / "between";
            { FilesCertStore s(m); setup(s); between(s); }
            middle = view(m);
        }

        int crashed = 0;
        for (int n = 1; n <= 64; ++n) {
            fs::path dir = base_ / ("n" + std::to_string(n));
            { FilesCertStore s(dir); setup(s); }
            pid_t pid = ::fork();
            if (pid == 0) {
                crash_point::arm(n);
                try {
                    FilesCertStore s(dir);
                    op(s);
                } catch (...) {
                    ::_exit(2);
                }
                ::_exit(0);
            }
            int status = 0;
            EXPECT_EQ(::waitpid(pid, &status, 0), pid);
            EXPECT_TRUE(WIFEXITED(status));
            if (WEXITSTATUS(status) == 0) {
                EXPECT_EQ(view(dir), after);
                EXPECT_EQ(n, static_cast<int>(windows.size()) + 1) << "the child passed a different number of steps";
                return crashed;
            }
            EXPECT_EQ(WEXITSTATUS(status), crash_point::kExitCode);
            ++crashed;
            SCOPED_TRACE("crash at step " + std::to_string(n) + ": " +
                         (n <= static_cast<int>(windows.size()) ? windows[n - 1] : std::string("?")));
            // A reader, with nothing repaired: before or after, exactly.
            const std::string seen = view(dir);
            EXPECT_TRUE(seen == before || seen == middle || seen == after)
                << "seen:   " << seen << "\nbefore: " << before << "\nmiddle: " << middle << "\nafter:  " << after;
            // A writer's start: the same state, nothing left lying around.
            {
                FilesCertStore s(dir);
                s.recover();
            }
            EXPECT_EQ(view(dir), seen);
            for (const auto& l : litter(dir)) ADD_FAILURE() << l;
            // The redelivery: the put again ends in the state after.
            {
                FilesCertStore s(dir);
                op(s);
            }
            EXPECT_EQ(view(dir), after);
            for (const auto& l : litter(dir)) ADD_FAILURE() << "after the retry: " << l;
            fs::remove_all(dir);
        }
        ADD_FAILURE() << "the put never finished";
        return crashed;
    }

    fs::path base_;
};

}  // namespace

TEST_F(StoreCrashTest, FirstCertificateForAnAddress) {
    auto cert = user_cert(kBob);
    int crashed = run_every_window([](FilesCertStore&) {},
                                   [&](FilesCertStore& s) { s.put(kBob, cert.get(), meta_from("<new@x>")); });
    EXPECT_GE(crashed, 3);  // in the .json write, between the two, in the .crt write
}

TEST_F(StoreCrashTest, ReplacementKeepsTheOldCertificateWithItsMetadataInEveryWindow) {
    auto older = user_cert(kBob + ".old");
    auto newer = user_cert(kBob);
    int crashed = run_every_window(
        [&](FilesCertStore& s) { s.put(kBob, older.get(), meta_from("<old@x>")); },
        [&](FilesCertStore& s) { s.put(kBob, newer.get(), meta_from("<new@x>")); });
    EXPECT_GE(crashed, 6);  // two history writes, the .json, the .crt, and between each
}

TEST_F(StoreCrashTest, OlderCertificateKeptInHistory) {
    auto older = user_cert(kBob + ".old");
    auto newer = user_cert(kBob);
    int crashed = run_every_window(
        [&](FilesCertStore& s) { s.put(kBob, newer.get(), meta_from("<new@x>")); },
        [&](FilesCertStore& s) { s.put(kBob, older.get(), meta_from("<old@x>")); });
    EXPECT_GE(crashed, 3);
}

TEST_F(StoreCrashTest, ReplacementByACertificateAlreadyInTheHistory) {
    // The new certificate was kept in the history before (as a copy from an
    // earlier mail): the put removes that copy after the commit point.
    auto older = user_cert(kBob + ".old");
    auto newer = user_cert(kBob);
    int crashed = run_every_window(
        [&](FilesCertStore& s) {
            s.put(kBob, older.get(), meta_from("<old@x>"));
            CertMetadata earlier = meta_from("<new-earlier@x>");
            earlier.address = kBob;
            earlier.fingerprint = sha256_fingerprint(newer.get());
            earlier.status = CertStatus::Superseded;
            auto hdir = s.dir() / ".history" / kBob;
            ensure_directory(hdir);
            write_file_atomic(hdir, earlier.fingerprint + ".json", metadata_to_json_text(earlier), false);
            write_file_atomic(hdir, earlier.fingerprint + ".crt", certificate_pem(newer.get()), false);
        },
        [&](FilesCertStore& s) { s.put(kBob, newer.get(), meta_from("<new@x>")); });
    EXPECT_GE(crashed, 7);  // staged, two history renames, .json, .crt, two removals
}

TEST_F(StoreCrashTest, BatchShowsEachItemBeforeOrAfterInEveryWindow) {
    // Group commit (the webhook's put_batch): bob replaced, carol new, one
    // commit. A crash shows nothing done, bob done, or both; never carol
    // without bob, never a torn or orphaned file.
    auto older = user_cert(kBob + ".old");
    auto newer = user_cert(kBob);
    auto carol = user_cert(kCarol);
    auto batch = [&](FilesCertStore& s, bool both) {
        std::vector<PutRequest> items;
        items.push_back(PutRequest{kBob, x509_ref(newer.get()), meta_from("<new@x>")});
        if (both) items.push_back(PutRequest{kCarol, x509_ref(carol.get()), meta_from("<carol@x>")});
        s.put_batch(std::move(items), true);
    };
    int crashed = run_every_window(
        [&](FilesCertStore& s) { s.put(kBob, older.get(), meta_from("<old@x>")); },
        [&](FilesCertStore& s) { batch(s, true); }, [&](FilesCertStore& s) { batch(s, false); });
    EXPECT_GE(crashed, 7);  // staged, two history renames, four renames of bob and carol
}

TEST_F(StoreCrashTest, RecoverRestoresTheMetadataAndRemovesOnlyWhatACrashLeft) {
    // The window of the issue by hand: the old .crt with the new .json.
    fs::path dir = base_ / "store";
    auto older = user_cert(kBob + ".old");
    auto newer = user_cert(kBob);
    FilesCertStore s(dir);
    s.put(kBob, older.get(), meta_from("<old@x>"));
    s.put(kBob, newer.get(), meta_from("<new@x>"));
    // Roll the files back to "step 2 done, step 3 not".
    write_file_atomic(dir, kBob + ".crt", certificate_pem(older.get()), false);
    write_file_atomic(dir, ".carol@example.com.crt.tmp.999999.1", "half", false);
    write_file_atomic(dir, "carol@example.com.json", "{}", false);
    write_file_atomic(dir, "unrelated.txt", "mine", false);
    write_file_atomic(dir, ".unrelated.txt.tmp.1.1", "not a certificate's", false);
    EXPECT_EQ(FilesCertStore(dir).get(kBob)->meta.message_id, "<old@x>");
    auto r = s.recover();
    EXPECT_EQ(r.metadata_restored, 1u);
    EXPECT_EQ(r.temporaries, 1u);
    EXPECT_EQ(r.orphans, 1u);
    EXPECT_EQ(r.duplicates, 1u);
    auto json = metadata_from_json_text(*read_file(dir / (kBob + ".json")));
    ASSERT_TRUE(json);
    EXPECT_EQ(json->message_id, "<old@x>");
    EXPECT_EQ(json->status, CertStatus::Current);
    EXPECT_TRUE(fs::exists(dir / "unrelated.txt"));
    EXPECT_TRUE(fs::exists(dir / ".unrelated.txt.tmp.1.1"));
    EXPECT_EQ(s.recover().total(), 0u);
}
