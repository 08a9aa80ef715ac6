// der_tlv.cpp: see der_tlv.hpp.
#include "der_tlv.hpp"

namespace sealpost {

std::optional<Tlv> read_tlv(std::string_view& in) {
    if (in.size() < 2) return std::nullopt;
    Tlv t;
    t.tag = static_cast<unsigned char>(in[0]);
    if ((t.tag & 0x1f) == 0x1f) return std::nullopt;
    std::size_t pos = 1;
    std::size_t len = static_cast<unsigned char>(in[pos++]);
    if (len & 0x80) {
        std::size_t n = len & 0x7f;
        if (n == 0 || n > 3 || pos + n > in.size()) return std::nullopt;
        len = 0;
        for (std::size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>(in[pos++]);
    }
    if (len > in.size() - pos) return std::nullopt;
    t.content = in.substr(pos, len);
    t.whole = in.substr(0, pos + len);
    in.remove_prefix(pos + len);
    return t;
}

void append_tlv(std::string& out, unsigned char tag, std::string_view content) {
    out += static_cast<char>(tag);
    const std::size_t n = content.size();
    if (n < 0x80) {
        out += static_cast<char>(n);
    } else {
        int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
        out += static_cast<char>(0x80 | bytes);
        for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xff);
    }
    out.append(content);
}

std::string tlv(unsigned char tag, std::string_view content) {
    std::string out;
    out.reserve(content.size() + 6);
    append_tlv(out, tag, content);
    return out;
}

}  // namespace sealpost
