// collect_fuzz.cpp: libFuzzer target for the collector's parse-and-verify
// entry point, collect_message(). Any input must end in a verdict: no crash,
// no sanitizer report, no write outside the temporary store.
//
// Build and run: tests/fuzz/build_fuzz.sh OUTDIR, then
//   OUTDIR/collect_fuzz -max_total_time=20 CORPUS_DIR
// Environment: SEALPOST_FUZZ_BUNDLE (trust anchors, default the system
// bundle); SEALPOST_FUZZ_DKIM_KEYS (an OpenDKIM test-key file: DKIM is then
// required and verified with those keys, no DNS, so the DKIM parser and
// verifier are fuzzed too; unset: DKIM is ignored so inputs reach the
// S/MIME stages more often).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include "cert_store_files.hpp"
#include "collect.hpp"
#include "log.hpp"

namespace {

struct Harness {
    sealpost::CollectOptions options;
    std::string store_dir;
    std::unique_ptr<sealpost::FilesCertStore> store;
    std::shared_ptr<const sealpost::TrustAnchors> anchors;

    Harness() {
        sealpost::log()->set_level(spdlog::level::off);
        char tmpl[] = "/tmp/sealpost-fuzz-store.XXXXXX";
        const char* dir = ::mkdtemp(tmpl);
        if (!dir) std::abort();
        store_dir = dir;
        const char* bundle = std::getenv("SEALPOST_FUZZ_BUNDLE");
        options.trusted_certs = bundle ? bundle : sealpost::kDefaultTrustedCerts;
        const char* dkim_keys = std::getenv("SEALPOST_FUZZ_DKIM_KEYS");
        options.dkim = dkim_keys ? sealpost::DkimMode::Require : sealpost::DkimMode::Ignore;
        if (dkim_keys) options.dkim_keys = dkim_keys;
        options.limits.max_bytes = 1 << 20;
        store = std::make_unique<sealpost::FilesCertStore>(store_dir);
        anchors = sealpost::TrustAnchors::load(options.trusted_certs);
    }
    ~Harness() {
        std::error_code ec;
        std::filesystem::remove_all(store_dir, ec);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Harness h;
    std::string_view raw(reinterpret_cast<const char*>(data), size);
    sealpost::Verdict v = sealpost::collect_message(raw, h.options, *h.store, *h.anchors, "fuzz");
    // A verdict is always complete: a rejection always says why.
    if (v.outcome == sealpost::VerdictOutcome::Rejected && v.text.empty()) std::abort();
    return 0;
}
