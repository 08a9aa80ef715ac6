// mime.cpp: GMime initialisation, parsing under limits, CRLF serialisation.
#include "mime.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <mutex>
#include <vector>

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

std::string write_crlf(GMimeObject* object) {
    GMimeFormatOptions* opts = g_mime_format_options_clone(g_mime_format_options_get_default());
    g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
    GObjectPtr<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_object_write_to_stream(object, opts, mem.get());
    g_mime_format_options_free(opts);
    GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    // GMime converts header line ends; the body may still hold bare LFs.
    return to_crlf(std::string_view(reinterpret_cast<const char*>(arr->data), arr->len));
}

std::string to_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string header_value(GMimeObject* object, const char* name) {
    const char* v = g_mime_object_get_header(object, name);
    return v ? v : "";
}

std::string base64_lines(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 4 / 3 + bytes.size() / 57 * 2 + 8);
    unsigned char buf[80];
    for (std::size_t off = 0; off < bytes.size(); off += 57) {
        std::size_t n = std::min<std::size_t>(57, bytes.size() - off);
        int len = EVP_EncodeBlock(buf, reinterpret_cast<const unsigned char*>(bytes.data() + off),
                                  static_cast<int>(n));
        out.append(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
        out += "\r\n";
    }
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
