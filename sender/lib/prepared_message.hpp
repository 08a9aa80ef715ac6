// prepared_message.hpp: an input message taken apart for protection: the
// envelope (From and every To/Cc/Bcc recipient, normalised, deduplicated),
// the outer header block that stays visible (everything but Content-*,
// MIME-Version and Bcc; Date and Message-ID added when missing; 8-bit
// values RFC 2047-encoded, header_encode.hpp), and the
// MIME entity to sign/encrypt, made 7-bit safe and canonical (CRLF).
// Fails with Error(Input) naming what is wrong with the message.
#pragma once

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

// outer headers + MIME-Version + entity: a complete message. (Encrypted
// copies are assembled in place by send_pipeline: same layout.)
std::string assemble_message(const PreparedMessage& m, std::string_view entity);

}  // namespace sealpost
