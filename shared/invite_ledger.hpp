// invite_ledger.hpp: the invitation ledger's records (issue 13), kept by
// every CertStore backend beside the certificates so that several nodes
// share it: which addresses are wanted (a copy went out not encrypted only
// because no usable certificate was known, or their certificate expires or
// was revoked), when each was last invited and how often. "Collected" is
// not stored: it is the store's own answer (a usable certificate collected
// after the invitation), computed where it is reported.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace sealpost {

// Why an address is wanted: the template and the report name it.
enum class InviteReason { NoCertificate, Expiring, Revoked };
const char* to_string(InviteReason r);                         // no-certificate | expiring | revoked
InviteReason invite_reason_from_string(std::string_view text);  // unknown: NoCertificate

struct InviteRecord {
    std::string address;                                // normalised
    InviteReason reason = InviteReason::NoCertificate;  // the latest
    std::time_t wanted_at = 0;                          // last recorded as wanted (0: never)
    long long wanted_count = 0;                         // times recorded (each flush counts once)
    std::time_t invited_at = 0;                         // last invitation (0: never)
    long long invite_count = 0;
};

enum class InviteClaimOutcome { Claimed, TooSoon, DailyLimit };

struct InviteClaim {
    InviteClaimOutcome outcome = InviteClaimOutcome::TooSoon;
    std::time_t previous_invited_at = 0;  // for release_invitation
};

}  // namespace sealpost
