// send_pipeline.cpp: the sign-then-encrypt pipeline.
#include "send_pipeline.hpp"

#include <malloc.h>

#include <algorithm>
#include <set>

#include "errors.hpp"
#include "cert_info.hpp"
#include "prepared_message.hpp"
#include "recipient_status.hpp"
#include "wanted_recorder.hpp"

namespace sealpost {

SendOptions SendOptions::from_config(const Config& config) {
    SendOptions o;
    o.sign = parse_sign_mode(config.get_or("sender", "sign", "none"));
    o.encrypt = parse_encrypt_mode(config.get_or("sender", "encrypt", "auto"));
    if (auto c = config.get("sender", "cipher"); c && !c->empty() && *c != "auto") o.cipher = parse_cipher(*c);
    o.mix_key_types = config.get_bool("sender", "mix-key-types", false);
    o.mail_from = config.get_or("sender", "mail-from", "");
    o.limits.max_bytes = static_cast<std::size_t>(config.get_size("sender", "max-message-size", 10 * 1024 * 1024));
    o.policy = std::make_shared<const RecipientPolicy>(RecipientPolicy::from_config(config));
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

void keep_message_buffers(std::size_t max_message_bytes) {
    // A copy is about 2x the message; glibc caps the mmap threshold at 32 MiB
    // (64-bit), and larger buffers are mapped whatever we ask.
    std::size_t threshold = std::min<std::size_t>(std::max<std::size_t>(max_message_bytes * 3, 1u << 20), 32u << 20);
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(threshold));
    mallopt(M_TRIM_THRESHOLD, static_cast<int>(threshold * 4));
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

void SendPipeline::record_wanted(const std::vector<PlanNote>& notes, std::time_t now) const {
    if (!options_.wanted) return;
    for (const auto& n : notes) {
        if (n.reason.empty() || n.reason == "encrypt=never" || n.reason == "no certificate store") continue;
        if (options_.policy) {
            auto o = options_.policy->lookup(n.address);
            if ((o.invite && !*o.invite) || (o.encrypt && *o.encrypt == EncryptMode::Never)) continue;
        }
        options_.wanted->add(n.address, invite_reason_for(n.reason), now);
    }
}

Cipher SendPipeline::choose_cipher(const CopyPlan& copy) const {
    if (auto c = policy_cipher(options_.policy.get(), copy)) return *c;  // [domain]/[recipient] cipher
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
    return process_prepared(prepare_message(raw, options_.limits), raw.size(), trace, now, envelope, envelope_from);
}

std::vector<OutputCopy> SendPipeline::process(std::string&& raw, Trace& trace, std::time_t now,
                                              const std::vector<Mailbox>* envelope,
                                              const std::string* envelope_from) const {
    PreparedMessage pm = prepare_message(raw, options_.limits);
    std::size_t bytes = raw.size();
    std::string().swap(raw);  // the entity holds what is needed from here on
    return process_prepared(std::move(pm), bytes, trace, now, envelope, envelope_from);
}

std::vector<OutputCopy> SendPipeline::process_prepared(PreparedMessage pm, std::size_t raw_bytes, Trace& trace,
                                                       std::time_t now, const std::vector<Mailbox>* envelope,
                                                       const std::string* envelope_from) const {
    if (envelope) pm.recipients = *envelope;
    if (pm.recipients.empty()) fail(ErrorKind::Input, "no recipients (To, Cc and Bcc are empty)");
    std::string mail_from = pm.from.address;
    if (envelope_from && !envelope_from->empty()) mail_from = normalise_address(*envelope_from);
    if (!options_.mail_from.empty()) mail_from = normalise_address(options_.mail_from);
    trace.info("from={} recipients={} message-id={} bytes={}", pm.from.address, pm.recipients.size(),
               printable(pm.message_id, 120), raw_bytes);
    if (pm.reencoded_parts > 0) trace.info("re-encoded {} part(s) to 7-bit before signing", pm.reencoded_parts);

    // Recipients not in To/Cc (Bcc; in serve also envelope-only ones) get a copy each.
    std::set<std::string> hidden;
    for (const auto& r : pm.recipients)
        if (!pm.visible.count(r.address)) hidden.insert(r.address);
    std::vector<PlanNote> notes;
    std::vector<PolicyRefusal> refusals;
    auto plans = plan_copies_with_policy(pm.recipients, store_, options_.encrypt, options_.mix_key_types, now,
                                         options_.policy.get(), &notes, &hidden, &refusals,
                                         options_.revocation ? &*options_.revocation : nullptr);
    for (const auto& n : notes) {
        if (n.reason.empty()) trace.info("{}: certificate found, will encrypt", n.address);
        else trace.info("{}: not encrypted: {}", n.address, n.reason);
    }
    record_wanted(notes, now);

    // What goes into each copy: the entity, or the signed entity (never copied).
    std::string signed_entity;
    std::string_view body = pm.entity;
    if (options_.sign != SignMode::None) {
        auto identity = identities_->get(pm.from.address);
        signed_entity = sign_entity(pm.entity, *identity, options_.sign);
        body = signed_entity;
        std::string().swap(pm.entity);  // signed: the unsigned entity is not needed any more
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
            // Assembled once, in its final buffer: outer headers, then the
            // enveloped entity's base64 written straight after them.
            std::string& m = copy.message;
            m.reserve(pm.outer_headers.size() + 32);
            m += pm.outer_headers;
            m += "MIME-Version: 1.0\r\n";
            append_encrypted_entity(m, body, certs, cipher);
            copy.label += std::string(" ") + cipher_name(cipher);
        } else {
            copy.message = assemble_message(pm, body);
        }
        trace.info("copy {}/{}: {} to {}", copies.size() + 1, plans.size(), copy.label, rcpts);
        copies.push_back(std::move(copy));
    }
    // Recipients a [domain]/[recipient] encrypt=always refuses: a copy that
    // is never delivered, only reported (delivery_outcome.hpp).
    for (const auto& r : refusals) {
        trace.warn("{}: refused: {}", r.recipient.address, r.reason);
        OutputCopy copy;
        copy.trace_id = trace.id();
        copy.mail_from = mail_from;
        copy.recipients = {r.recipient};
        copy.label = "refused by policy";
        copy.kind = "refused";
        copy.refusal = r.reason;
        copies.push_back(std::move(copy));
    }
    return copies;
}

}  // namespace sealpost
