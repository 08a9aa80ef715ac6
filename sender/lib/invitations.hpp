// invitations.hpp: closing the loop (issue 13). Who is due an invitation
// (the ledger's wanted addresses still without a usable certificate, and
// every stored address whose certificate expires within renew-before or was
// revoked), sending them within interval and max-per-day (claimed in the
// store, so several processes and nodes share the limits), and the
// confirmation the collector asks for once it stored a certificate.
// Invitations are signed as [invite] from, never encrypted, carry
// Auto-Submitted: auto-generated and a Message-ID of their own (the send
// pipeline's); the confirmation is signed and encrypted to the certificate
// just collected. Used by `sealpost invite`, serve's background task and
// serve's Host::certificate_collected.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "cert_store.hpp"
#include "identity.hpp"
#include "invite_options.hpp"
#include "recipient_policy.hpp"
#include "transport.hpp"

namespace sealpost {

struct InviteCandidate {
    std::string address;
    InviteReason reason = InviteReason::NoCertificate;
    std::time_t not_after = 0;   // the certificate's, for expiring and revoked ones
    std::time_t invited_at = 0;  // the ledger's last invitation (0: never)
};

struct InviteRunReport {
    std::vector<std::string> lines;  // one per address acted on ("invited ...", "would invite ...", "failed ...")
    long long sent = 0, failed = 0, not_due = 0;
    bool daily_limit = false;
    int exit_code = 0;  // worst delivery outcome (0, 69, 75)
};

class Inviter {
public:
    // Error(Config) when the signing identity [invite] from cannot be loaded.
    Inviter(InviteOptions options, std::shared_ptr<const RecipientPolicy> policy, CertStore& store,
            IdentityStore& identities);

    // Everyone who would get an invitation if the limits allowed, in ledger
    // order then store order, excluded addresses and invite = no left out.
    std::vector<InviteCandidate> candidates(std::time_t now) const;

    // Sends (or with dry_run only lists) due invitations, at most `limit`
    // (0: no limit besides max-per-day).
    InviteRunReport run(Transport& transport, std::time_t now, bool dry_run, long long limit);

    // The confirmation for `address`, whose certificate was just stored:
    // encrypted to it (Error(Input) when it is not usable) and signed.
    DeliveryResult confirm(Transport& transport, const std::string& address, std::time_t now);

    // The message an invitation to `c` would be (for tests and --dry-run).
    std::string render(const InviteCandidate& c) const;

    const InviteOptions& options() const { return options_; }

private:
    bool wanted_by_policy(const std::string& address) const;

    InviteOptions options_;
    std::shared_ptr<const RecipientPolicy> policy_;
    CertStore& store_;
    IdentityStore& identities_;
};

}  // namespace sealpost
