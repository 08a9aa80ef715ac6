// copy_plan.hpp: who gets which copy. The recipients of one message are
// split by envelope: those with a usable certificate get an encrypted copy
// (RSA and EC recipients apart unless mix_key_types, because NSS before
// 3.100 cannot parse an envelope holding an ECDH recipient), the rest a copy
// that is not encrypted. Hidden recipients (Bcc, or in serve an envelope
// recipient not in To/Cc) each get a copy of their own, encrypted to them
// alone or not encrypted, so that nobody can read their certificate's
// issuer/serial in a shared EnvelopedData (nor their address in an envelope).
// encrypt=always refuses the whole message when any recipient lacks a
// certificate, naming them all.
#pragma once

#include <ctime>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "address.hpp"
#include "revocation_options.hpp"
#include "cert_store.hpp"

namespace sealpost {

enum class EncryptMode { Auto, Always, Never };
EncryptMode parse_encrypt_mode(std::string_view name);  // auto|always|never
const char* encrypt_mode_name(EncryptMode m);

struct CopyPlan {
    std::vector<Mailbox> recipients;
    std::vector<StoredCertificatePtr> certs;  // empty for a copy not encrypted
    bool encrypted = false;
    std::string label;  // "encrypted (RSA)", "encrypted (EC)", "not encrypted", "... (Bcc)"
};

struct PlanNote {
    std::string address;
    std::string reason;  // why not encrypted, or "" when encrypted
};

// Throws Error(Input) for encrypt=always with a recipient lacking a usable
// certificate; `notes` gets one line per recipient for the log. Copies come
// in order: the shared ones (RSA, EC, not encrypted), then one per hidden
// recipient (addresses in `hidden`) in recipient order. `revocation`: the
// cached revocation status decides too (recipient_cert.hpp).
std::vector<CopyPlan> plan_copies(const std::vector<Mailbox>& recipients, const CertStore* store, EncryptMode mode,
                                  bool mix_key_types, std::time_t now, std::vector<PlanNote>* notes = nullptr,
                                  const std::set<std::string>* hidden = nullptr,
                                  const RevocationOptions* revocation = nullptr);

}  // namespace sealpost
