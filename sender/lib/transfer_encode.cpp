// transfer_encode.cpp: content-transfer-encoding decisions and our QP encoder.
#include "transfer_encode.hpp"

#include <cstring>
#include <vector>

#include "byte_masks.hpp"
#include "handles.hpp"
#include "mime.hpp"

namespace sealpost {
namespace {

constexpr std::size_t kMaxSafeLine = 76;

void set_encoded_content(GMimePart* part, const std::string& encoded, GMimeContentEncoding enc) {
    GObjectPtr<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_stream_write(mem.get(), encoded.data(), encoded.size());
    g_mime_stream_reset(mem.get());
    GObjectPtr<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(mem.get(), enc));
    g_mime_part_set_content(part, wrapper.get());
    g_mime_part_set_content_encoding(part, enc);
}

bool reencode_leaf(GMimePart* part) {
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
    if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
        enc == GMIME_CONTENT_ENCODING_UUENCODE)
        return false;
    GMimeContentType* ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
    bool text = ct && g_mime_content_type_is_type(ct, "text", "*");
    std::string content = decoded_part_content(part);
    if (text) {
        if (seven_bit_safe_text(content)) return false;
        set_encoded_content(part, quoted_printable(content), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
        return true;
    }
    bool has_8bit = false;
    for (unsigned char c : content) has_8bit = has_8bit || c >= 0x80 || c == 0;
    if (!has_8bit && enc == GMIME_CONTENT_ENCODING_7BIT) return false;
    if (!has_8bit && seven_bit_safe_text(content)) return false;
    g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
    return true;
}

// No 8-bit byte, no NUL, no CR but the one of a CRLF: one pass of
// byte-wide ORs, no branch per byte, which the compiler vectorises (AVX2
// where the machine has it, chosen when the program starts).
__attribute__((target_clones("avx2", "default"))) bool seven_bit_bytes(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    if (n == 0) return true;
    unsigned char bad = 0;
    for (std::size_t i = 0; i + 1 < n; ++i)
        bad |= static_cast<unsigned char>((p[i] >= 0x80) | (p[i] == 0) | ((p[i] == '\r') & (p[i + 1] != '\n')));
    bad |= static_cast<unsigned char>((p[n - 1] >= 0x80) | (p[n - 1] == 0) | (p[n - 1] == '\r'));
    return bad == 0;
}

// One line, its line end left off: short, no white space at its end, not
// read as a mbox separator or an SMTP end of data.
bool safe_line(std::string_view line) {
    if (line.size() > kMaxSafeLine) return false;
    if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) return false;
    return !line.starts_with("From ") && line != ".";
}

}  // namespace

bool seven_bit_safe_text(std::string_view text) {
    // The bytes in one pass, then each line, its ends found sixteen bytes
    // a step (byte_masks.hpp): this runs over every text part of every
    // message, whose lines are short.
    if (!seven_bit_bytes(text)) return false;
    const char* p = text.data();
    const std::size_t n = text.size();
    std::size_t line = 0;  // where the current line starts
    auto line_ends_at = [&](std::size_t lf) {
        std::size_t end = lf > line && p[lf - 1] == '\r' ? lf - 1 : lf;  // the CR of a CRLF
        bool ok = safe_line(text.substr(line, end - line));
        line = lf + 1;
        return ok;
    };
    std::size_t at = 0;
    for (; at + kMaskBlock <= n; at += kMaskBlock)
        for (std::uint32_t m = byte_mask(p + at, '\n'); m != 0; m &= m - 1)
            if (!line_ends_at(at + lowest_bit(m))) return false;
    for (; at < n; ++at)
        if (p[at] == '\n' && !line_ends_at(at)) return false;
    return safe_line(text.substr(line));
}

std::string quoted_printable(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() + text.size() / 8 + 16);
    std::size_t col = 0;
    auto emit = [&](std::string_view token) {
        // Soft line break so that no encoded line exceeds 76 columns.
        if (col + token.size() > kMaxSafeLine - 1) {
            out += "=\r\n";
            col = 0;
        }
        out += token;
        col += token.size();
    };
    std::size_t i = 0;
    while (i <= text.size()) {
        std::size_t eol = text.find_first_of("\r\n", i);
        bool last = eol == std::string_view::npos;
        std::string_view line = text.substr(i, last ? std::string_view::npos : eol - i);
        for (std::size_t k = 0; k < line.size(); ++k) {
            unsigned char c = static_cast<unsigned char>(line[k]);
            // An encoded line must not start with "From " (mbox tools would
            // mangle it), even after a soft break, nor be a lone ".".
            bool starts_line = col == 0 || col + 1 > kMaxSafeLine - 1;
            bool trailing_ws = (c == ' ' || c == '\t') && k + 1 == line.size();
            bool special = c == '=' || (c < 0x20 && c != '\t') || c >= 0x7f;
            bool escape = special || trailing_ws ||
                          (starts_line && (line.substr(k, 5) == "From " || (k == 0 && line == ".")));
            if (escape) {
                char tok[3] = {'=', hex[c >> 4], hex[c & 15]};
                emit(std::string_view(tok, 3));
            } else {
                char ch = static_cast<char>(c);
                emit(std::string_view(&ch, 1));
            }
        }
        if (last) break;
        out += "\r\n";
        col = 0;
        i = eol + 1;
        if (text[eol] == '\r' && i < text.size() && text[i] == '\n') ++i;
        if (i == text.size()) break;
    }
    return out;
}

int make_seven_bit_safe(GMimeObject* root) {
    int changed = 0;
    std::vector<GMimeObject*> todo{root};
    while (!todo.empty()) {
        GMimeObject* obj = todo.back();
        todo.pop_back();
        if (GMIME_IS_MULTIPART(obj)) {
            auto* mp = GMIME_MULTIPART(obj);
            for (int i = 0, n = g_mime_multipart_get_count(mp); i < n; ++i)
                todo.push_back(g_mime_multipart_get_part(mp, i));
        } else if (GMIME_IS_MESSAGE_PART(obj)) {
            GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
            if (inner && g_mime_message_get_mime_part(inner)) todo.push_back(g_mime_message_get_mime_part(inner));
        } else if (GMIME_IS_PART(obj)) {
            changed += reencode_leaf(GMIME_PART(obj)) ? 1 : 0;
        }
    }
    return changed;
}

}  // namespace sealpost
