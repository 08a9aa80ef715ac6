// der_splice.hpp: a large value added to a small DER encoding without
// copying it. OpenSSL encodes a CMS structure with its content inside:
// the content is copied into the structure, then into the encoding, then
// read again for the base64. Encoded without its content (a few KB), the
// structure is completed here: the enclosing lengths grow, the value's
// header is written, and the value itself stays where it is (or is not
// even made: it can be encoded as it is produced, cms_content_sink.hpp).
// head + value + tail is byte for byte the DER OpenSSL would write.
#pragma once

#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

namespace sealpost {

struct DerAround {
    std::string head;  // everything before the value, its own header(s) last
    std::string tail;  // everything after it
};

// In a path: the last child, however many there are.
inline constexpr unsigned kDerLastChild = std::numeric_limits<unsigned>::max();

// `der`: one complete encoding (low tag numbers, definite lengths).
// `path`: from the outermost element, the index of the child to go into at
// each level; the value is appended at the end of the element reached,
// whose tag must be `target_tag`. `wrappers`: the tags of the headers
// written before the value, outermost first (the last is the value's own
// tag; any before it are constructed and enclose the next); `value_size`:
// the value's length in bytes.
// Throws Error(Internal) when `der` does not have that shape.
DerAround der_around_value(std::string_view der, std::initializer_list<unsigned> path, unsigned char target_tag,
                           std::initializer_list<unsigned char> wrappers, std::size_t value_size);

// Where the element reached by `path` lies in `der` (its tag and length
// bytes included). Throws Error(Internal) when `der` does not have that shape.
struct DerSpan {
    std::size_t start = 0;
    std::size_t size = 0;
    unsigned char tag = 0;
};
DerSpan der_element(std::string_view der, std::initializer_list<unsigned> path);

}  // namespace sealpost
