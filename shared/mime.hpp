// mime.hpp: GMime plumbing: one-time initialisation, parsing a message from
// bytes under limits, serialising an object with CRLF line ends, and the
// canonical-CRLF conversion that everything signed goes through.
#pragma once

#include <gmime/gmime.h>

#include <string>
#include <string_view>

#include "handles.hpp"

namespace sealpost {

// Initialises GMime once per process (thread-safe, idempotent).
void mime_init();

struct MimeLimits {
    std::size_t max_bytes = 10 * 1024 * 1024;
    int max_depth = 32;
    int max_parts = 1000;
};

// Parses a whole RFC 822 message. Throws Error(Input) with the reason when
// the bytes are not a message or break a limit.
GObjectPtr<GMimeMessage> parse_message(std::string_view bytes, const MimeLimits& limits = {});

// Depth and part count of a parsed tree (for the limits).
struct MimeShape {
    int depth = 0;
    int parts = 0;
};
MimeShape mime_shape(GMimeObject* root, int stop_after_parts = 1 << 30);

// Serialises an object (headers + body) with CRLF line ends. size_hint:
// the expected size (e.g. the parsed input's), so the buffer is sized once.
std::string write_crlf(GMimeObject* object, std::size_t size_hint = 0);

// Every line end (LF, CR, CRLF) becomes CRLF.
std::string to_crlf(std::string_view text);
// The same, appended to `out`.
void append_crlf(std::string& out, std::string_view text);

// A header field's value with its folds undone (RFC 5322 3.2.2: the line
// ends removed, the white space after them kept).
std::string unfold_header(std::string_view value);

// The value of a header field of `object` ("" when absent), raw.
std::string header_value(GMimeObject* object, const char* name);

// Base64 with CRLF-terminated 76-column lines.
std::string base64_lines(std::string_view bytes);
// The same appended to `out` (sized once), and its exact length.
void append_base64_lines(std::string& out, const unsigned char* bytes, std::size_t n);
std::size_t base64_lines_size(std::size_t n);

// Decodes base64, ignoring whitespace; throws Error(Input) on garbage.
std::string base64_decode(std::string_view text);

// The content of a leaf part with its transfer encoding undone.
std::string decoded_part_content(GMimePart* part);

// `bytes` random bytes (OpenSSL's RNG) as lowercase hex: boundaries, Message-IDs.
std::string random_hex(std::size_t bytes);

}  // namespace sealpost
