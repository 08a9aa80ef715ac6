// copy_plan.cpp: recipient grouping for encryption.
#include "copy_plan.hpp"

#include "cert_info.hpp"
#include "recipient_cert.hpp"
#include "errors.hpp"

namespace sealpost {

EncryptMode parse_encrypt_mode(std::string_view name) {
    if (name == "auto" || name.empty()) return EncryptMode::Auto;
    if (name == "always") return EncryptMode::Always;
    if (name == "never") return EncryptMode::Never;
    fail(ErrorKind::Config, "encrypt = '" + std::string(name) + "' is not one of auto, always, never");
}

const char* encrypt_mode_name(EncryptMode m) {
    switch (m) {
        case EncryptMode::Auto: return "auto";
        case EncryptMode::Always: return "always";
        case EncryptMode::Never: return "never";
    }
    return "?";
}

std::vector<CopyPlan> plan_copies(const std::vector<Mailbox>& recipients, const CertStore* store, EncryptMode mode,
                                  bool mix_key_types, std::time_t now, std::vector<PlanNote>* notes,
                                  const std::set<std::string>* hidden, const RevocationOptions* revocation) {
    CopyPlan rsa{{}, {}, true, mix_key_types ? "encrypted" : "encrypted (RSA)"};
    CopyPlan ec{{}, {}, true, "encrypted (EC)"};
    CopyPlan plain{{}, {}, false, "not encrypted"};
    std::vector<std::string> missing;
    std::vector<CopyPlan> own;  // one per hidden recipient
    auto is_hidden = [&](const Mailbox& r) { return hidden && hidden->count(r.address) > 0; };

    for (const auto& r : recipients) {
        if (mode == EncryptMode::Never || !store) {
            if (is_hidden(r)) own.push_back({{r}, {}, false, "not encrypted (Bcc)"});
            else plain.recipients.push_back(r);
            if (notes) notes->push_back({r.address, mode == EncryptMode::Never ? "encrypt=never" : "no certificate store"});
            continue;
        }
        auto usable = usable_recipient_certificate(*store, r.address, now, revocation);
        if (!usable.cert) {
            if (is_hidden(r)) own.push_back({{r}, {}, false, "not encrypted (Bcc)"});
            else plain.recipients.push_back(r);
            missing.push_back(r.address + " (" + usable.reason + ")");
            if (notes) notes->push_back({r.address, usable.reason});
            continue;
        }
        bool is_ec = key_kind(usable.cert->cert.get()) == KeyKind::Ec;
        if (is_hidden(r)) {
            own.push_back({{r}, {usable.cert}, true, is_ec ? "encrypted (EC, Bcc)" : "encrypted (RSA, Bcc)"});
            if (notes) notes->push_back({r.address, ""});
            continue;
        }
        CopyPlan& target = (is_ec && !mix_key_types) ? ec : rsa;
        target.recipients.push_back(r);
        target.certs.push_back(usable.cert);
        if (notes) notes->push_back({r.address, ""});
    }

    if (mode == EncryptMode::Always && !missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        fail(ErrorKind::Input, "encrypt=always but no usable certificate for: " + list +
                                   "; nothing was sent (collect their certificates, or use --encrypt auto)");
    }
    std::vector<CopyPlan> out;
    for (auto* p : {&rsa, &ec, &plain})
        if (!p->recipients.empty()) out.push_back(std::move(*p));
    for (auto& p : own) out.push_back(std::move(p));
    return out;
}

}  // namespace sealpost
