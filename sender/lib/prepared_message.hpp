// prepared_message.hpp: an input message taken apart for protection: the
// envelope (From and every To/Cc/Bcc recipient, normalised, deduplicated),
// the outer header block that stays visible (everything but Content-*,
// MIME-Version and Bcc; Date and Message-ID added when missing; 8-bit
// values RFC 2047-encoded, header_encode.hpp), and the
// MIME entity to sign/encrypt, made 7-bit safe and canonical (CRLF).
// Fails with Error(Input) naming what is wrong with the message.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "address.hpp"
#include "mime.hpp"

namespace sealpost {

struct PreparedMessage {
    Mailbox from;
    std::vector<Mailbox> recipients;  // To, Cc, Bcc in order, no duplicates
    std::set<std::string> visible;    // the To and Cc addresses: every other recipient is hidden (Bcc)
    std::string outer_headers;        // CRLF lines, no trailing blank line
    std::string entity;               // Content-* headers, blank line, body
    std::string message_id;
    int reencoded_parts = 0;
};

PreparedMessage prepare_message(std::string_view raw, const MimeLimits& limits = {});

// The two ways prepare_message takes. prepare_canonical reads a message
// that needs no rewriting (canonical_mime.hpp) without GMime, and answers
// nullopt for any other message and for every error, which it leaves to
// prepare_with_gmime: GMime's tree, re-encoding, and the reason for a
// refusal. Where prepare_canonical answers, the two agree byte for byte
// (prepared_message_test; send_fuzz checks it on every input).
std::optional<PreparedMessage> prepare_canonical(std::string_view raw, const MimeLimits& limits = {});
PreparedMessage prepare_with_gmime(std::string_view raw, const MimeLimits& limits = {});

// outer headers + MIME-Version + entity: a complete message. (Encrypted
// copies are assembled in place by send_pipeline: same layout.)
std::string assemble_message(const PreparedMessage& m, std::string_view entity);

}  // namespace sealpost
