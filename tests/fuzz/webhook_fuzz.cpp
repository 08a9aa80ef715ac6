// webhook_fuzz.cpp: libFuzzer target for the collector webhook's request
// handler (JSON batches, base64 bodies, batch ids, tokens). The input is a
// request body, posted with the right token and a batch id taken from its
// first bytes; every request must get a JSON response with a known status,
// and nothing may be written outside the temporary store.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cert_store_files.hpp"
#include "collect.hpp"
#include "log.hpp"
#include "webhook_handler.hpp"

namespace {

struct Harness {
    std::filesystem::path store_dir;
    std::unique_ptr<sealpost::FilesCertStore> store;
    std::unique_ptr<sealpost::WebhookHandler> handler;

    Harness() {
        sealpost::log()->set_level(spdlog::level::off);
        char tmpl[] = "/tmp/sealpost-fuzz-webhook.XXXXXX";
        const char* dir = ::mkdtemp(tmpl);
        if (!dir) std::abort();
        store_dir = dir;
        sealpost::CollectOptions options;
        const char* bundle = std::getenv("SEALPOST_FUZZ_BUNDLE");
        options.trusted_certs = bundle ? bundle : sealpost::kDefaultTrustedCerts;
        options.dkim = sealpost::DkimMode::Ignore;
        options.limits.max_bytes = 1 << 20;
        options.source = "webhook";
        store = std::make_unique<sealpost::FilesCertStore>(store_dir);
        auto anchors = sealpost::TrustAnchors::load(options.trusted_certs);
        handler = std::make_unique<sealpost::WebhookHandler>("fuzz-token", options, *store, anchors);
    }
    ~Harness() {
        std::error_code ec;
        std::filesystem::remove_all(store_dir, ec);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Harness h;
    std::string_view body(reinterpret_cast<const char*>(data), size);
    sealpost::WebhookRequest r;
    r.method = "POST";
    r.target = "/";
    r.content_type = "application/json";
    r.token = "fuzz-token";
    r.batch_id = size >= 8 ? std::string(body.substr(0, 8)) : std::string();
    r.body = std::string(body);
    r.peer = "fuzz";
    auto resp = h.handler->handle(r);
    if (resp.status < 200 || resp.status > 599) std::abort();
    if (!nlohmann::json::accept(resp.body)) std::abort();
    return 0;
}
