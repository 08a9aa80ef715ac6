// mime.cpp: GMime initialisation, parsing under limits, CRLF serialisation.
#include "mime.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

#include "base64_triples.hpp"
#include "errors.hpp"
#include "mime_prescan.hpp"

namespace sealpost {

void mime_init() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

MimeShape mime_shape(GMimeObject* root, int stop_after_parts) {
    MimeShape shape;
    struct Item {
        GMimeObject* obj;
        int depth;
    };
    std::vector<Item> todo{{root, 1}};
    while (!todo.empty() && shape.parts < stop_after_parts) {
        auto [obj, depth] = todo.back();
        todo.pop_back();
        if (!obj) continue;
        ++shape.parts;
        shape.depth = std::max(shape.depth, depth);
        if (GMIME_IS_MULTIPART(obj)) {
            auto* mp = GMIME_MULTIPART(obj);
            int n = g_mime_multipart_get_count(mp);
            for (int i = 0; i < n; ++i) todo.push_back({g_mime_multipart_get_part(mp, i), depth + 1});
        } else if (GMIME_IS_MESSAGE_PART(obj)) {
            GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
            if (inner) todo.push_back({g_mime_message_get_mime_part(inner), depth + 1});
        }
    }
    return shape;
}

GObjectPtr<GMimeMessage> parse_message(std::string_view bytes, const MimeLimits& limits) {
    mime_init();
    if (bytes.empty()) fail(ErrorKind::Input, "empty message");
    if (bytes.size() > limits.max_bytes)
        fail(ErrorKind::Limit, "message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                                   std::to_string(limits.max_bytes));
    // GMime's parser recurses per nesting level: bound it before GMime runs.
    if (auto why = prescan_problem(bytes, limits.max_depth, limits.max_parts)) fail(ErrorKind::Limit, *why);
    // GMime parses from its own copy of the bytes.
    GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_byte_array(
        g_byte_array_new_take(static_cast<guint8*>(g_memdup2(bytes.data(), bytes.size())), bytes.size())));
    GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    GObjectPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!msg) fail(ErrorKind::Input, "not an RFC 822 message (no header block)");
    GMimeObject* root = g_mime_message_get_mime_part(msg.get());
    if (!root) fail(ErrorKind::Input, "message has no body");
    MimeShape shape = mime_shape(root, limits.max_parts + 1);
    if (shape.parts > limits.max_parts)
        fail(ErrorKind::Limit, "more than " + std::to_string(limits.max_parts) + " MIME parts");
    if (shape.depth > limits.max_depth)
        fail(ErrorKind::Limit, "MIME nesting deeper than " + std::to_string(limits.max_depth));
    return msg;
}

std::string write_crlf(GMimeObject* object, std::size_t size_hint) {
    GMimeFormatOptions* opts = g_mime_format_options_clone(g_mime_format_options_get_default());
    g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
    // Sized once: a growing byte array would copy the entity at every doubling.
    GObjectPtr<GMimeStream> mem(g_mime_stream_mem_new_with_byte_array(g_byte_array_sized_new(
        static_cast<guint>(std::min<std::size_t>(size_hint + size_hint / 16 + 1024, 1u << 30)))));
    g_mime_object_write_to_stream(object, opts, mem.get());
    g_mime_format_options_free(opts);
    GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    // GMime converts header line ends; the body may still hold bare LFs.
    return to_crlf(std::string_view(reinterpret_cast<const char*>(arr->data), arr->len));
}

void append_crlf(std::string& out, std::string_view text) {
    // Runs between line-end characters are copied whole: in canonical
    // input (every line end already CRLF) that is one copy per line.
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
        const char* q = p;
        for (;;) {
            const void* nl = std::memchr(q, '\n', static_cast<std::size_t>(end - q));
            const char* lf = nl ? static_cast<const char*>(nl) : end;
            // A CR that is not just before this LF ends the run early.
            const void* cr = std::memchr(q, '\r', static_cast<std::size_t>(lf - q));
            if (cr && (!nl || static_cast<const char*>(cr) + 1 != lf)) {
                q = static_cast<const char*>(cr);
                out.append(p, static_cast<std::size_t>(q - p));
                out += "\r\n";  // lone CR
                p = q + 1;
                break;
            }
            if (!nl) {
                out.append(p, static_cast<std::size_t>(end - p));
                p = end;
                break;
            }
            if (lf > p && lf[-1] == '\r') {  // CRLF: part of the run
                q = lf + 1;
                if (q == end) {
                    out.append(p, static_cast<std::size_t>(end - p));
                    p = end;
                    break;
                }
                continue;
            }
            out.append(p, static_cast<std::size_t>(lf - p));  // bare LF
            out += "\r\n";
            p = lf + 1;
            break;
        }
    }
}

std::string to_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32 + 2);
    append_crlf(out, text);
    return out;
}

std::string unfold_header(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value)
        if (c != '\r' && c != '\n') out += c;
    return out;
}

std::string header_value(GMimeObject* object, const char* name) {
    const char* v = g_mime_object_get_header(object, name);
    return v ? v : "";
}

std::size_t base64_lines_size(std::size_t n) {
    std::size_t full = n / 57, rest = n % 57;
    return full * 78 + (rest ? (rest + 2) / 3 * 4 + 2 : 0);
}

void append_base64_lines(std::string& out, const unsigned char* in, std::size_t n) {
    out.reserve(out.size() + base64_lines_size(n));
    // Encoded a block of lines at a time into a small buffer (L1), then
    // appended: the output is written once (resize would clear it first).
    constexpr std::size_t kLines = 42;  // 42 x 78 = 3276 bytes
    char buf[kLines * 78 + 8];
    std::size_t full = n / 57;
    while (full > 0) {
        std::size_t k = std::min(full, kLines);
        char* o = buf;
        for (std::size_t l = 0; l < k; ++l, in += 57) {
            o = encode_triples(o, in, 19);
            *o++ = '\r';
            *o++ = '\n';
        }
        out.append(buf, static_cast<std::size_t>(o - buf));
        full -= k;
    }
    std::size_t rest = n % 57;
    if (rest == 0) return;
    char* o = encode_triples(buf, in, rest / 3);
    in += rest / 3 * 3;
    static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (rest % 3 == 1) {
        *o++ = abc[in[0] >> 2];
        *o++ = abc[(in[0] & 3) << 4];
        *o++ = '=';
        *o++ = '=';
    } else if (rest % 3 == 2) {
        *o++ = abc[in[0] >> 2];
        *o++ = abc[((in[0] & 3) << 4) | (in[1] >> 4)];
        *o++ = abc[(in[1] & 15) << 2];
        *o++ = '=';
    }
    *o++ = '\r';
    *o++ = '\n';
    out.append(buf, static_cast<std::size_t>(o - buf));
}

std::string base64_lines(std::string_view bytes) {
    std::string out;
    append_base64_lines(out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    return out;
}

std::string base64_decode(std::string_view text) {
    std::string clean;
    clean.reserve(text.size());
    for (char c : text)
        if (!(c == '\r' || c == '\n' || c == ' ' || c == '\t')) clean += c;
    if (clean.size() % 4 != 0) fail(ErrorKind::Input, "base64: length is not a multiple of 4");
    std::string out(clean.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
    if (n < 0) fail(ErrorKind::Input, "base64: invalid characters");
    std::size_t pad = 0;
    if (!clean.empty() && clean.back() == '=') ++pad;
    if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

std::string decoded_part_content(GMimePart* part) {
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (!content) return {};
    GObjectPtr<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(content, mem.get());
    GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    return std::string(reinterpret_cast<const char*>(arr->data), arr->len);
}

std::string random_hex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
        fail_openssl("random: RAND_bytes failed");
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char c : raw) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

}  // namespace sealpost
