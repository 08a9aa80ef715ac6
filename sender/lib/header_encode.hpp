// header_encode.hpp: outer header lines made 7-bit on the way out. A header
// whose raw value holds 8-bit bytes (raw UTF-8 in a display name or a
// Subject) is written as RFC 2047 encoded-words: address headers (From, To,
// Cc, Reply-To, Sender, Resent-*) through GMime's address list (only the
// display names are encoded; addresses stay as they are), every other
// header as unstructured text; then folded. 7-bit headers are left byte for
// byte as they came (their folding included).
#pragma once

#include <gmime/gmime.h>

#include <string>
#include <string_view>

namespace sealpost {

// True when `raw` holds a byte >= 0x80.
bool has_eight_bit(std::string_view raw);

// "Name: encoded value" with CRLF line ends (folded lines included), the
// final CRLF included, for a header whose raw value has 8-bit bytes.
std::string encode_header_line(GMimeHeader* header);

}  // namespace sealpost
