// recipient_policy.hpp: `[domain example.com]` and `[recipient
// alice@example.com]` sections (issue 13): per-recipient overrides of
// encrypt (always | auto | never), cipher and invite (yes | no). The most
// specific wins, key by key: the recipient's section, then the domain's,
// then each parent domain's ([domain example.com] covers
// mail.example.com), then [sender]/[invite].
//
// plan_copies_with_policy() is copy_plan's plan_copies() with those
// overrides: recipients are planned in groups by their encrypt mode and the
// copies merged again (one RSA copy, one EC copy, one copy not encrypted,
// one per hidden recipient). An `always` that comes from a section refuses
// only that recipient (a PolicyRefusal; the others still get their copies),
// while [sender] encrypt = always keeps refusing the whole message.
#pragma once

#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cipher.hpp"
#include "config.hpp"
#include "copy_plan.hpp"

namespace sealpost {

struct RecipientOverride {
    std::optional<EncryptMode> encrypt;
    std::optional<Cipher> cipher;
    std::optional<bool> invite;
    std::string encrypt_source;  // "[domain example.com]" for the log
};

class RecipientPolicy {
public:
    // Error(Config) for a section whose name is not a domain or address, or a bad value.
    static RecipientPolicy from_config(const Config& config);

    bool empty() const { return domains_.empty() && recipients_.empty(); }
    RecipientOverride lookup(std::string_view address) const;  // normalised address

private:
    std::map<std::string, RecipientOverride, std::less<>> domains_, recipients_;
};

struct PolicyRefusal {
    Mailbox recipient;
    std::string reason;  // "encrypt=always ([domain example.com]) and no usable certificate (...)"
};

std::vector<CopyPlan> plan_copies_with_policy(const std::vector<Mailbox>& recipients, const CertStore* store,
                                              EncryptMode mode, bool mix_key_types, std::time_t now,
                                              const RecipientPolicy* policy, std::vector<PlanNote>* notes,
                                              const std::set<std::string>* hidden,
                                              std::vector<PolicyRefusal>* refused,
                                              const RevocationOptions* revocation = nullptr);

// The cipher a copy gets from the sections: set when every recipient of it
// has the same override (else nullopt: the usual rule).
std::optional<Cipher> policy_cipher(const RecipientPolicy* policy, const CopyPlan& copy);

}  // namespace sealpost
