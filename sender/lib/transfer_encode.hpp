// transfer_encode.hpp: make every leaf of a MIME tree 7-bit safe before it
// is signed, so no relay can alter signed bytes: text that is 8-bit, has
// long lines, trailing whitespace, a line starting "From " or a lone "."
// becomes quoted-printable (our encoder escapes "From " as "=46rom ");
// 8-bit or binary non-text becomes base64. Parts already QP/base64 stay.
#pragma once

#include <gmime/gmime.h>

#include <string>
#include <string_view>

namespace sealpost {

// Re-encodes the leaves of `root` in place; returns how many changed.
int make_seven_bit_safe(GMimeObject* root);

// Quoted-printable (RFC 2045) of text whose line ends become CRLF line
// breaks; "From " at a line start and a lone "." are escaped.
std::string quoted_printable(std::string_view text);

// True when `text` may go out unchanged as 7bit text.
bool seven_bit_safe_text(std::string_view text);

}  // namespace sealpost
