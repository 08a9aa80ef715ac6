// der_tlv.hpp: a bounds-checked DER TLV reader and writer for the few
// structures OpenSSL has no public decoder for (signed attributes), that
// we take apart before OpenSSL sees them (cms_cert_cache), or that the
// sender encodes itself (smime_attributes, enveloped_data). Single-byte
// tags only; lengths read up to 2^24.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sealpost {

struct Tlv {
    unsigned char tag = 0;
    std::string_view content;
    std::string_view whole;  // tag, length and content
};

// Reads one TLV from the front of `in` and advances past it; nullopt (with
// `in` unchanged or partly consumed) when it is not one.
std::optional<Tlv> read_tlv(std::string_view& in);

// Appends tag, the DER length of `content`, and `content`.
void append_tlv(std::string& out, unsigned char tag, std::string_view content);

// The same as a value, for nesting: tlv(0x30, tlv(0x02, ...) + ...).
std::string tlv(unsigned char tag, std::string_view content);

}  // namespace sealpost
