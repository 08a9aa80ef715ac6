// recipient_policy.cpp: [domain ...] / [recipient ...] overrides and the
// copy plan that honours them (see the header).
#include "recipient_policy.hpp"

#include <algorithm>

#include "address.hpp"
#include "ascii.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {
namespace {

void merge_into(RecipientOverride& into, const RecipientOverride& from) {
    if (!into.encrypt && from.encrypt) {
        into.encrypt = from.encrypt;
        into.encrypt_source = from.encrypt_source;
    }
    if (!into.cipher && from.cipher) into.cipher = from.cipher;
    if (!into.invite && from.invite) into.invite = from.invite;
}

RecipientOverride read_section(const Config& config, const std::string& section) {
    RecipientOverride o;
    std::string where = "[" + section + "]";
    if (auto v = config.get(section, "encrypt"); v && !v->empty()) {
        try {
            o.encrypt = parse_encrypt_mode(*v);
        } catch (const Error& e) {
            fail(ErrorKind::Config, "config: " + where + " " + e.what());
        }
        o.encrypt_source = where;
    }
    if (auto v = config.get(section, "cipher"); v && !v->empty() && *v != "auto") {
        try {
            o.cipher = parse_cipher(*v);
        } catch (const Error& e) {
            fail(ErrorKind::Config, "config: " + where + " " + e.what());
        }
    }
    if (config.get(section, "invite")) o.invite = config.get_bool(section, "invite", true);
    return o;
}

bool is_bcc_label(const std::string& label) { return label.find("Bcc") != std::string::npos; }

int shared_rank(const std::string& label) {
    if (label.rfind("encrypted (RSA)", 0) == 0 || label == "encrypted") return 0;
    if (label.rfind("encrypted (EC)", 0) == 0) return 1;
    return 2;
}

}  // namespace

RecipientPolicy RecipientPolicy::from_config(const Config& config) {
    RecipientPolicy p;
    for (const auto& section : config.sections()) {
        bool domain = section.rfind("domain ", 0) == 0, recipient = section.rfind("recipient ", 0) == 0;
        if (!domain && !recipient) continue;
        std::string name = section.substr(section.find(' ') + 1);
        while (!name.empty() && name.front() == ' ') name.erase(0, 1);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        std::string key;
        try {
            if (recipient) {
                key = normalise_address(name);
            } else {
                // A domain is normalised the way an address's domain is.
                std::string a = normalise_address("x@" + name);
                key = a.substr(2);
            }
        } catch (const Error& e) {
            fail(ErrorKind::Config, "config: [" + section + "]: '" + printable(name, 80) + "' is not " +
                                        (recipient ? "an address" : "a domain") + ": " + e.what());
        }
        (recipient ? p.recipients_ : p.domains_)[key] = read_section(config, section);
    }
    return p;
}

RecipientOverride RecipientPolicy::lookup(std::string_view address) const {
    RecipientOverride out;
    if (auto it = recipients_.find(address); it != recipients_.end()) merge_into(out, it->second);
    auto at = address.rfind('@');
    if (at == std::string_view::npos) return out;
    std::string_view domain = address.substr(at + 1);
    while (!domain.empty()) {
        if (auto it = domains_.find(domain); it != domains_.end()) merge_into(out, it->second);
        auto dot = domain.find('.');
        if (dot == std::string_view::npos) break;
        domain.remove_prefix(dot + 1);
    }
    return out;
}

std::vector<CopyPlan> plan_copies_with_policy(const std::vector<Mailbox>& recipients, const CertStore* store,
                                              EncryptMode mode, bool mix_key_types, std::time_t now,
                                              const RecipientPolicy* policy, std::vector<PlanNote>* notes,
                                              const std::set<std::string>* hidden,
                                              std::vector<PolicyRefusal>* refused,
                                              const RevocationOptions* revocation) {
    if (!policy || policy->empty())
        return plan_copies(recipients, store, mode, mix_key_types, now, notes, hidden, revocation);

    // Groups in a fixed order: [sender]'s mode, then each overriding mode.
    struct Group {
        std::vector<Mailbox> members;
        std::map<std::string, std::string> source;  // address -> section (always only)
    };
    Group global, never, autom, always;
    for (const auto& r : recipients) {
        auto o = policy->lookup(r.address);
        if (!o.encrypt) global.members.push_back(r);
        else if (*o.encrypt == EncryptMode::Never) never.members.push_back(r);
        else if (*o.encrypt == EncryptMode::Auto) autom.members.push_back(r);
        else {
            always.members.push_back(r);
            always.source[r.address] = o.encrypt_source;
        }
    }
    std::vector<CopyPlan> all;
    auto add = [&](const Group& g, EncryptMode m) {
        if (g.members.empty()) return;
        auto plans = plan_copies(g.members, store, m, mix_key_types, now, notes, hidden, revocation);
        for (auto& p : plans) all.push_back(std::move(p));
    };
    add(global, mode);
    add(never, EncryptMode::Never);
    add(autom, EncryptMode::Auto);
    if (!always.members.empty()) {
        std::vector<PlanNote> own;
        auto plans = plan_copies(always.members, store, EncryptMode::Auto, mix_key_types, now, &own, hidden, revocation);
        for (auto& p : plans) {
            if (p.encrypted) {
                all.push_back(std::move(p));
                continue;
            }
            for (const auto& r : p.recipients) {
                std::string why;
                for (const auto& n : own)
                    if (n.address == r.address) why = n.reason;
                if (refused)
                    refused->push_back({r, "encrypt=always (" + always.source[r.address] +
                                               ") and no usable certificate for " + r.address + " (" + why + ")"});
            }
        }
        if (notes)
            for (auto& n : own) notes->push_back(std::move(n));
    }
    // Merge the shared copies of the groups: one per kind, as plan_copies makes them.
    std::vector<CopyPlan> shared, own;
    for (auto& p : all) {
        if (is_bcc_label(p.label)) {
            own.push_back(std::move(p));
            continue;
        }
        auto same = std::find_if(shared.begin(), shared.end(), [&](const CopyPlan& s) { return s.label == p.label; });
        if (same == shared.end()) {
            shared.push_back(std::move(p));
            continue;
        }
        for (auto& r : p.recipients) same->recipients.push_back(std::move(r));
        for (auto& c : p.certs) same->certs.push_back(std::move(c));
    }
    std::stable_sort(shared.begin(), shared.end(),
                     [](const CopyPlan& a, const CopyPlan& b) { return shared_rank(a.label) < shared_rank(b.label); });
    for (auto& p : own) shared.push_back(std::move(p));
    return shared;
}

std::optional<Cipher> policy_cipher(const RecipientPolicy* policy, const CopyPlan& copy) {
    if (!policy || policy->empty() || copy.recipients.empty()) return std::nullopt;
    std::optional<Cipher> c;
    for (const auto& r : copy.recipients) {
        auto o = policy->lookup(r.address);
        if (!o.cipher || (c && *c != *o.cipher)) return std::nullopt;
        c = o.cipher;
    }
    return c;
}

}  // namespace sealpost
