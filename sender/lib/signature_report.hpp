// signature_report.hpp: `sealpost show`'s verdict on a CMS signature:
// "signature good, signer alice@example.org, chain to <root>" or why not.
// Verifies the signature over the signed bytes (embedded, or the detached
// content given), then the signer's chain to the trust anchors of `bundle`
// at `at` for S/MIME signing. Reads untrusted bytes: never throws for a bad
// signature or garbage, says why instead; Error(Config) only when the
// bundle cannot be loaded.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "handles.hpp"

namespace sealpost {

struct SignatureReport {
    bool good = false;
    std::string text;  // one line
};

class SignatureVerifier {
public:
    // Loads the PEM bundle of trust anchors (the system bundle by default).
    explicit SignatureVerifier(const std::string& bundle);

    SignatureReport verify(std::string_view der, const std::optional<std::string>& detached_content,
                           std::time_t at) const;

    const std::string& bundle() const { return bundle_; }

private:
    std::string bundle_;
    X509StorePtr store_;
};

}  // namespace sealpost
