// invitations.cpp: candidates, the run within the limits, the confirmation.
#include "invitations.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "cert_info.hpp"
#include "delivery_outcome.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "send_pipeline.hpp"
#include "wanted_recorder.hpp"

namespace sealpost {
namespace {

std::string date_of(std::time_t t) { return t ? format_time(t).substr(0, 10) : ""; }

std::string reason_text(const InviteCandidate& c, std::time_t now) {
    switch (c.reason) {
        case InviteReason::Revoked: return "was revoked";
        case InviteReason::Expiring:
            return c.not_after && c.not_after <= now ? "expired on " + date_of(c.not_after)
                                                     : "expires on " + date_of(c.not_after);
        case InviteReason::NoCertificate: break;
    }
    return "is not known to us";
}

std::string domain_of(const std::string& a) {
    auto at = a.rfind('@');
    return at == std::string::npos ? "" : a.substr(at + 1);
}

// Delivery of one copy, a throwing transport counted as deferred.
DeliveryResult deliver(Transport& transport, const OutputCopy& copy) {
    try {
        return transport.deliver(copy);
    } catch (const std::exception& e) {
        DeliveryResult r;
        r.status = DeliveryResult::Status::TempFail;
        r.detail = e.what();
        return r;
    }
}

}  // namespace

Inviter::Inviter(InviteOptions options, std::shared_ptr<const RecipientPolicy> policy, CertStore& store,
                 IdentityStore& identities)
    : options_(std::move(options)), policy_(std::move(policy)), store_(store), identities_(identities) {
    identities_.get(options_.from);  // a missing or broken identity is exit 78 now, not at the first invitation
}

bool Inviter::wanted_by_policy(const std::string& address) const {
    if (options_.excluded(address)) return false;
    if (policy_) {
        auto o = policy_->lookup(address);
        if (o.invite && !*o.invite) return false;
        if (o.encrypt && *o.encrypt == EncryptMode::Never) return false;
    }
    return true;
}

std::vector<InviteCandidate> Inviter::candidates(std::time_t now) const {
    std::vector<InviteCandidate> out;
    std::set<std::string> seen;
    std::map<std::string, std::time_t> invited;
    auto ledger = store_.invitations();
    for (const auto& r : ledger) invited[r.address] = r.invited_at;
    auto consider = [&](const std::string& address, bool from_ledger) {
        if (seen.count(address) || !wanted_by_policy(address)) return;
        auto usable = store_.find_for_encryption(address, now);
        InviteCandidate c;
        c.address = address;
        c.invited_at = invited.count(address) ? invited[address] : 0;
        if (usable.cert) {
            c.not_after = not_after(usable.cert->cert.get());
            if (c.not_after - now > options_.renew_before) return;  // fine for now
            // Another certificate kept that lasts longer (collected, not current) counts too.
            c.reason = InviteReason::Expiring;
        } else {
            auto current = store_.get(address);
            auto history = current ? std::vector<StoredCertificatePtr>{} : store_.history(address);
            auto kept = current ? current : (history.empty() ? nullptr : history.front());
            if (!kept) {
                if (!from_ledger) return;
                c.reason = InviteReason::NoCertificate;
            } else {
                c.not_after = not_after(kept->cert.get());
                c.reason = invite_reason_for(usable.reason);
                if (c.reason == InviteReason::NoCertificate) c.reason = InviteReason::Expiring;  // unusable: renew
            }
        }
        seen.insert(address);
        out.push_back(std::move(c));
    };
    for (const auto& r : ledger) consider(r.address, true);
    for (const auto& a : store_.addresses()) consider(a, false);
    return out;
}

std::string Inviter::render(const InviteCandidate& c) const {
    std::time_t now = std::time(nullptr);
    std::map<std::string, std::string> values = {
        {"address", c.address},       {"collect_address", options_.collect_address},
        {"from", options_.from},      {"not_after", date_of(c.not_after)},
        {"reason", to_string(c.reason)}, {"reason_text", reason_text(c, now)},
        {"domain", domain_of(c.address)},
    };
    const InviteTemplate& t = c.reason == InviteReason::NoCertificate ? options_.invite : options_.renew;
    return t.render(options_.from, c.address, values);
}

InviteRunReport Inviter::run(Transport& transport, std::time_t now, bool dry_run, long long limit) {
    InviteRunReport rep;
    auto list = candidates(now);
    long long today = 0;
    if (dry_run)
        for (const auto& r : store_.invitations())
            if (r.invited_at != 0 && r.invited_at > now - 86400) today++;
    SendOptions so;
    so.sign = SignMode::Detached;
    so.encrypt = EncryptMode::Never;
    SendPipeline pipeline(so, nullptr, &identities_);
    for (const auto& c : list) {
        if (limit > 0 && rep.sent >= limit) break;
        const char* kind = c.reason == InviteReason::NoCertificate ? "invitation" : "renewal invitation";
        if (dry_run) {
            if (c.invited_at != 0 && now - c.invited_at < options_.interval) {
                rep.not_due++;
                continue;
            }
            if (options_.max_per_day > 0 && today >= options_.max_per_day) {
                rep.daily_limit = true;
                break;
            }
            today++;
            rep.sent++;
            rep.lines.push_back("would send " + std::string(kind) + " to " + c.address + " (" + to_string(c.reason) + ")");
            continue;
        }
        auto claim = store_.claim_invitation(c.address, c.reason, now, options_.interval, options_.max_per_day);
        if (claim.outcome == InviteClaimOutcome::TooSoon) {
            rep.not_due++;
            continue;
        }
        if (claim.outcome == InviteClaimOutcome::DailyLimit) {
            rep.daily_limit = true;
            break;
        }
        Trace trace("invite: " + std::string(kind) + " to " + c.address + " (" + to_string(c.reason) + ")");
        DeliveryResult result;
        try {
            auto copies = pipeline.process(render(c), trace, now);
            for (auto& copy : copies) {
                result = deliver(transport, copy);
                if (result.status != DeliveryResult::Status::Accepted) break;
            }
        } catch (const Error& e) {
            result.status = DeliveryResult::Status::TempFail;
            result.detail = e.what();
        }
        if (result.status == DeliveryResult::Status::Accepted) {
            trace.info("sent via {}: {}", transport.name(), printable(result.detail, 200));
            rep.sent++;
            rep.lines.push_back("sent " + std::string(kind) + " to " + c.address + " (" + to_string(c.reason) + ")");
            continue;
        }
        trace.error("not sent: {}", printable(result.detail, 300));
        rep.failed++;
        rep.lines.push_back("failed " + std::string(kind) + " to " + c.address + ": " + printable(result.detail, 200));
        int code = exit_code_for(summarize_delivery({result}).outcome);
        rep.exit_code = (rep.exit_code == kExitTempFail || code == kExitTempFail) ? kExitTempFail
                                                                                  : std::max(rep.exit_code, code);
        try {
            store_.release_invitation(c.address, claim.previous_invited_at);  // due again at the next run
        } catch (const Error& e) {
            trace.error("its claim could not be released ({}): next invitation after the interval", e.what());
        }
    }
    if (rep.daily_limit) rep.lines.push_back("max-per-day (" + std::to_string(options_.max_per_day) + ") reached");
    return rep;
}

DeliveryResult Inviter::confirm(Transport& transport, const std::string& address, std::time_t now) {
    auto usable = store_.find_for_encryption(address, now);
    if (!usable.cert) fail(ErrorKind::Input, "no usable certificate for " + address + ": " + usable.reason);
    InviteCandidate c{address, InviteReason::NoCertificate, not_after(usable.cert->cert.get()), 0};
    std::map<std::string, std::string> values = {
        {"address", address},          {"collect_address", options_.collect_address},
        {"from", options_.from},       {"not_after", date_of(c.not_after)},
        {"reason", "collected"},       {"reason_text", "was collected"},
        {"domain", domain_of(address)},
    };
    SendOptions so;
    so.sign = SignMode::Detached;
    so.encrypt = EncryptMode::Always;
    SendPipeline pipeline(so, &store_, &identities_);
    Trace trace("invite: confirmation to " + address);
    auto copies = pipeline.process(options_.confirm_template.render(options_.from, address, values), trace, now);
    DeliveryResult result;
    for (auto& copy : copies) {
        result = deliver(transport, copy);
        if (result.status != DeliveryResult::Status::Accepted) break;
    }
    if (result.status == DeliveryResult::Status::Accepted)
        trace.info("confirmation sent via {} (encrypted, signed as {})", transport.name(), options_.from);
    else
        trace.error("confirmation not sent: {}", printable(result.detail, 300));
    return result;
}

}  // namespace sealpost
