// send_pipeline.cpp: the sign-then-encrypt pipeline.
#include "send_pipeline.hpp"

#include <algorithm>
#include <set>

#include "errors.hpp"
#include "cert_info.hpp"
#include "prepared_message.hpp"
#include "recipient_status.hpp"

namespace sealpost {

SendOptions SendOptions::from_config(const Config& config) {
    SendOptions o;
    o.sign = parse_sign_mode(config.get_or("sender", "sign", "none"));
    o.encrypt = parse_encrypt_mode(config.get_or("sender", "encrypt", "auto"));
    if (auto c = config.get("sender", "cipher"); c && !c->empty() && *c != "auto") o.cipher = parse_cipher(*c);
    o.mix_key_types = config.get_bool("sender", "mix-key-types", false);
    o.mail_from = config.get_or("sender", "mail-from", "");
    o.limits.max_bytes = static_cast<std::size_t>(config.get_size("sender", "max-message-size", 10 * 1024 * 1024));
    o.revocation = RevocationOptions::from_config(config);
    return o;
}

std::unique_ptr<IdentityStore> open_signing_identities(const Config& config, const SendOptions& options) {
    if (options.sign == SignMode::None) return nullptr;
    auto keys = config.get_or("sender", "keys-dir", "");
    if (keys.empty())
        fail(ErrorKind::Config, "signing needs the signing identities directory: --keys DIR or [sender] keys-dir");
    return std::make_unique<IdentityStore>(keys, IdentityOptions::from_config(config));
}

namespace {

// The copy's kind as the metrics name it (sealpost_copies_total{kind}).
std::string copy_kind(const CopyPlan& plan, bool is_signed) {
    if (!plan.encrypted) return is_signed ? "signed" : "plain";
    bool rsa = false, ec = false;
    for (const auto& c : plan.certs) (key_kind(c->cert.get()) == KeyKind::Ec ? ec : rsa) = true;
    return rsa && ec ? "encrypted-mixed" : ec ? "encrypted-ec" : "encrypted-rsa";
}

}  // namespace

Cipher SendPipeline::choose_cipher(const CopyPlan& copy) const {
    if (options_.cipher) return *options_.cipher;
    // AES-256-GCM only when every recipient announced it (SMIMECapabilities
    // recorded by the collector); otherwise the cipher every client reads.
    bool all_gcm = !copy.certs.empty();
    for (const auto& c : copy.certs) all_gcm = all_gcm && announces_aes256_gcm(c->meta);
    return all_gcm ? Cipher::Aes256Gcm : Cipher::Aes256Cbc;
}

std::vector<OutputCopy> SendPipeline::process(std::string_view raw, Trace& trace, std::time_t now,
                                              const std::vector<Mailbox>* envelope,
                                              const std::string* envelope_from) const {
    PreparedMessage pm = prepare_message(raw, options_.limits);
    if (envelope) pm.recipients = *envelope;
    if (pm.recipients.empty()) fail(ErrorKind::Input, "no recipients (To, Cc and Bcc are empty)");
    std::string mail_from = pm.from.address;
    if (envelope_from && !envelope_from->empty()) mail_from = normalise_address(*envelope_from);
    if (!options_.mail_from.empty()) mail_from = normalise_address(options_.mail_from);
    trace.info("from={} recipients={} message-id={} bytes={}", pm.from.address, pm.recipients.size(),
               printable(pm.message_id, 120), raw.size());
    if (pm.reencoded_parts > 0) trace.info("re-encoded {} part(s) to 7-bit before signing", pm.reencoded_parts);

    // Recipients not in To/Cc (Bcc; in serve also envelope-only ones) get a copy each.
    std::set<std::string> hidden;
    for (const auto& r : pm.recipients)
        if (!pm.visible.count(r.address)) hidden.insert(r.address);
    std::vector<PlanNote> notes;
    auto plans = plan_copies(pm.recipients, store_, options_.encrypt, options_.mix_key_types, now, &notes, &hidden,
                             options_.revocation ? &*options_.revocation : nullptr);
    for (const auto& n : notes) {
        if (n.reason.empty()) trace.info("{}: certificate found, will encrypt", n.address);
        else trace.info("{}: not encrypted: {}", n.address, n.reason);
    }

    std::string body = pm.entity;
    if (options_.sign != SignMode::None) {
        auto identity = identities_->get(pm.from.address);
        body = sign_entity(pm.entity, *identity, options_.sign);
        trace.info("signed ({}, sha-256) as {}", sign_mode_name(options_.sign), identity->address);
    }

    std::vector<OutputCopy> copies;
    for (const auto& plan : plans) {
        OutputCopy copy;
        copy.trace_id = trace.id();
        copy.mail_from = mail_from;
        copy.recipients = plan.recipients;
        copy.signed_ = options_.sign != SignMode::None;
        copy.encrypted = plan.encrypted;
        copy.label = plan.label;
        copy.kind = copy_kind(plan, copy.signed_);
        std::string rcpts;
        for (const auto& r : plan.recipients) rcpts += (rcpts.empty() ? "" : ",") + r.address;
        if (plan.encrypted) {
            Cipher cipher = choose_cipher(plan);
            std::vector<X509*> certs;
            for (const auto& c : plan.certs) certs.push_back(c->cert.get());
            copy.message = assemble_message(pm, encrypt_entity(body, certs, cipher));
            copy.label += std::string(" ") + cipher_name(cipher);
        } else {
            copy.message = assemble_message(pm, body);
        }
        trace.info("copy {}/{}: {} to {}", copies.size() + 1, plans.size(), copy.label, rcpts);
        copies.push_back(std::move(copy));
    }
    return copies;
}

}  // namespace sealpost
