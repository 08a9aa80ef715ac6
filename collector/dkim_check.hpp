// dkim_check.hpp: DKIM verification with libopendkim, and the alignment of
// a verified signature's d= with the From domain.
//
// Every DKIM-Signature is examined (mail often carries several: the author's
// domain, a mailing list, the provider). The check passes when at least one
// signature verifies AND is aligned: d= equals the From domain (strict, as
// the original) or shares its organisational domain from the Public Suffix
// List (relaxed, libpsl). A signature fails, whatever libopendkim says, when
// its RSA key has fewer than kMinDkimKeyBits or its l= tag leaves part of
// the body unsigned (anything could be appended below a signed greeting).
//
// Trusts the key source: DNS, or for tests a file in OpenDKIM's test-key
// format (one "selector._domainkey.domain TXT-record" per line). Never
// throws for a bad signature: the result says why; throws Error(Config)
// only when libopendkim cannot be set up.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collect_options.hpp"

namespace sealpost {

inline constexpr unsigned kMinDkimKeyBits = 1024;

struct DkimSignature {
    std::string domain;    // d=, lowercased ("" when unreadable)
    std::string selector;  // s=
    bool verified = false; // cryptographically valid, key big enough, whole body
    bool aligned = false;  // d= aligned with the From domain
    std::string problem;   // why it did not verify or align ("" when it passed)
};

struct DkimResult {
    bool passed = false;
    std::string domain;    // of the signature that passed
    std::string selector;
    std::string reason;    // why it failed, for the verdict
    std::vector<DkimSignature> signatures;
};

// The organisational (registrable) domain of `domain` per the Public Suffix
// List, or "" when it has none (a public suffix itself).
std::string organisational_domain(std::string_view domain);

// True when d= `signer` is aligned with `from_domain` under `mode`.
bool dkim_aligned(std::string_view signer, std::string_view from_domain, DkimAlignment mode);

class DkimVerifier {
public:
    // One verifier per key source, shared by the whole process (libopendkim
    // library handles are safe to use from several threads once set up).
    static std::shared_ptr<const DkimVerifier> shared(const std::string& keys_file);

    explicit DkimVerifier(const std::string& keys_file);
    ~DkimVerifier();
    DkimVerifier(const DkimVerifier&) = delete;
    DkimVerifier& operator=(const DkimVerifier&) = delete;

    // `message` with CRLF line ends, headers included.
    DkimResult check(std::string_view message, std::string_view from_domain, DkimAlignment mode) const;

private:
    struct Lib;
    std::unique_ptr<Lib> lib_;
};

}  // namespace sealpost
