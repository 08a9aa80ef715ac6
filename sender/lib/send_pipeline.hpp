// send_pipeline.hpp: one message in, the copies to deliver out: parse,
// re-encode, sign once (opaque or detached, as the From address's identity),
// split recipients by certificate, encrypt each encrypted copy. Shared by
// `sealpost send` and `sealpost serve`; thread-safe (the stores are), so
// several workers can run it at once. Every step is logged on the
// message's Trace. Errors: Error(Input) for a bad message or encrypt=always
// without certificates, Error(Config)/Error(Permission) for signing keys.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cert_store.hpp"
#include "cipher.hpp"
#include "config.hpp"
#include "copy_plan.hpp"
#include "identity.hpp"
#include "log.hpp"
#include "mime.hpp"
#include "prepared_message.hpp"
#include "recipient_policy.hpp"
#include "smime_build.hpp"
#include "transport.hpp"

namespace sealpost {

class WantedRecorder;

struct SendOptions {
    SignMode sign = SignMode::None;
    EncryptMode encrypt = EncryptMode::Auto;
    std::optional<Cipher> cipher;   // unset: from the recipients' capabilities, else AES-256-CBC
    bool mix_key_types = false;
    std::string mail_from;          // envelope sender override
    MimeLimits limits;
    // [domain ...] / [recipient ...] sections (recipient_policy.hpp).
    std::shared_ptr<const RecipientPolicy> policy;
    // Set when [invite] enabled: recipients sent a copy not encrypted for
    // want of a certificate are recorded here (wanted_recorder.hpp).
    std::shared_ptr<WantedRecorder> wanted;
    std::optional<RevocationOptions> revocation;  // [revocation]; unset: not consulted

    // From [sender] (sign, encrypt, cipher, mix-key-types, mail-from, max-message-size).
    static SendOptions from_config(const Config& config);
};

// The signing identities when options.sign asks for signing ([sender]
// keys-dir), else nullptr. Shared by `send` and `serve`. Error(Config).
std::unique_ptr<IdentityStore> open_signing_identities(const Config& config, const SendOptions& options);

// For a batch (`send`): the allocator keeps the pages of freed message-sized
// buffers (no mmap/munmap per buffer, no trimming), so each worker reuses
// the same memory message after message instead of faulting in fresh pages
// for every copy of every message. Peak memory is unchanged; it is simply
// not handed back until the process ends. Call before the workers start.
void keep_message_buffers(std::size_t max_message_bytes);

class SendPipeline {
public:
    SendPipeline(SendOptions options, const CertStore* store, IdentityStore* identities)
        : options_(std::move(options)), store_(store), identities_(identities) {}

    // The copies for one message, in send order. The envelope recipients
    // come from To/Cc/Bcc unless `envelope` is given (SMTP RCPT TO in serve),
    // the envelope sender from From unless options or `mail_from` say otherwise.
    std::vector<OutputCopy> process(std::string_view raw, Trace& trace, std::time_t now,
                                    const std::vector<Mailbox>* envelope = nullptr,
                                    const std::string* mail_from = nullptr) const;
    // The same, taking the input over: it is freed as soon as the entity is
    // made, so at the peak (the encrypted copy being written) it no longer
    // counts (`send` of 1 MB statements: one message size less per worker).
    std::vector<OutputCopy> process(std::string&& raw, Trace& trace, std::time_t now,
                                    const std::vector<Mailbox>* envelope = nullptr,
                                    const std::string* mail_from = nullptr) const;

    const SendOptions& options() const { return options_; }

private:
    std::vector<OutputCopy> process_prepared(PreparedMessage pm, std::size_t raw_bytes, Trace& trace,
                                             std::time_t now, const std::vector<Mailbox>* envelope,
                                             const std::string* mail_from) const;
    Cipher choose_cipher(const CopyPlan& copy) const;
    void record_wanted(const std::vector<PlanNote>& notes, std::time_t now) const;

    SendOptions options_;
    const CertStore* store_;
    IdentityStore* identities_;
};

}  // namespace sealpost
