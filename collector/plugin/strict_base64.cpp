// strict_base64.cpp: one pass, four characters at a time.
#include "strict_base64.hpp"

#include <array>
#include <cstdio>

#include "errors.hpp"

namespace sealpost {
namespace {

constexpr std::array<signed char, 256> make_table() {
    std::array<signed char, 256> t{};
    for (auto& v : t) v = -1;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
    return t;
}
constexpr auto kTable = make_table();

[[noreturn]] void bad(const std::string& why, std::size_t offset) {
    fail(ErrorKind::Input, "base64: " + why + " at offset " + std::to_string(offset));
}

}  // namespace

std::string strict_base64_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size() / 4 * 3);
    unsigned quad[4];
    std::size_t offsets[4];
    int n = 0;          // characters in the current quad
    int pad = 0;        // '=' seen in the current quad
    bool ended = false; // a quad with padding was completed
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\r' || c == '\n') continue;
        if (ended) bad("data after the final padding", i);
        if (c == '=') {
            if (n < 2) bad("'=' where data must be", i);
            ++pad;
            quad[n] = 0;
            offsets[n++] = i;
        } else {
            if (kTable[c] < 0) {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", c);
                bad(std::string("invalid character ") + hex, i);
            }
            if (pad) bad("data after '='", i);
            quad[n] = static_cast<unsigned>(kTable[c]);
            offsets[n++] = i;
        }
        if (n < 4) continue;
        unsigned v = quad[0] << 18 | quad[1] << 12 | quad[2] << 6 | quad[3];
        out += static_cast<char>(v >> 16 & 0xff);
        if (pad < 2) out += static_cast<char>(v >> 8 & 0xff);
        if (pad < 1) out += static_cast<char>(v & 0xff);
        if ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff))) bad("non-zero bits before the padding", offsets[1 + (pad == 1)]);
        if (pad) ended = true;
        n = 0;
        pad = 0;
    }
    if (n != 0) bad("length is not a multiple of 4 (" + std::to_string(n) + " character(s) left over)", text.size());
    return out;
}

}  // namespace sealpost
