// cmd_certs_report.cpp: `sealpost certs report` (certs_report.hpp).
#include "certs_report.hpp"

#include <map>
#include <set>

#include "cert_info.hpp"
#include "errors.hpp"
#include "invite_options.hpp"

namespace sealpost {

int certs_report(const CertStore& store, const Config& config, std::time_t now, std::ostream& out) {
    long long renew_before = 30 * 86400;
    if (auto v = config.get("invite", "renew-before"); v && !v->empty()) {
        auto d = parse_invite_duration(*v);
        if (!d) fail(ErrorKind::Config, "config: [invite] renew-before = '" + *v + "' is not a duration");
        renew_before = *d;
    }
    std::vector<std::string> can, expiring, revoked, wanted, invited, converted;
    std::set<std::string> usable_now;
    std::map<std::string, std::time_t> collected_at;
    for (const auto& a : store.addresses()) {
        auto u = store.find_for_encryption(a, now);
        if (u.cert) {
            usable_now.insert(a);
            if (u.cert->meta.collected_at) collected_at[a] = *u.cert->meta.collected_at;
            std::time_t na = not_after(u.cert->cert.get());
            can.push_back(a + "\texpires " + format_time(na));
            if (na - now <= renew_before) expiring.push_back(a + "\texpires " + format_time(na));
        } else if (u.reason.find("revoked") != std::string::npos) {
            revoked.push_back(a);
        }
    }
    for (const auto& r : store.invitations()) {
        if (usable_now.count(r.address)) {
            auto c = collected_at.find(r.address);
            if (r.invited_at != 0 && c != collected_at.end() && c->second >= r.invited_at)
                converted.push_back(r.address + "\tinvited " + format_time(r.invited_at) + "\tcollected " +
                                    format_time(c->second));
            continue;
        }
        if (r.invited_at == 0)
            wanted.push_back(r.address + "\t" + to_string(r.reason) + "\tsince " + format_time(r.wanted_at) + "\t" +
                             std::to_string(r.wanted_count) + "x");
        else
            invited.push_back(r.address + "\t" + to_string(r.reason) + "\tlast " + format_time(r.invited_at) + "\t" +
                              std::to_string(r.invite_count) + "x");
    }
    long long asked = static_cast<long long>(invited.size() + converted.size());
    out << "can encrypt: " << can.size() << "\n"
        << "wanted: " << wanted.size() << "\n"
        << "invited: " << invited.size() << "\n"
        << "collected after invitation: " << converted.size();
    if (asked > 0) out << " (" << (converted.size() * 100 / asked) << "% of " << asked << " invited)";
    out << "\n"
        << "expiring: " << expiring.size() << "\n"
        << "revoked: " << revoked.size() << "\n";
    auto list = [&](const char* title, const std::vector<std::string>& v) {
        if (v.empty()) return;
        out << "\n" << title << ":\n";
        for (const auto& l : v) out << "  " << l << "\n";
    };
    list("can encrypt", can);
    list("wanted", wanted);
    list("invited", invited);
    list("collected after invitation", converted);
    list("expiring", expiring);
    list("revoked", revoked);
    return kExitOk;
}

}  // namespace sealpost
