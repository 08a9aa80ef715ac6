// der_splice.cpp: walk down a DER encoding, grow the enclosing lengths.
#include "der_splice.hpp"

#include <vector>

#include "errors.hpp"

namespace sealpost {
namespace {

struct Element {
    std::size_t start = 0;   // offset of the tag
    std::size_t header = 0;  // tag and length bytes
    std::size_t end = 0;     // one past the content
    unsigned char tag = 0;
};

[[noreturn]] void bad_shape(const char* why) { fail(ErrorKind::Internal, std::string("der: ") + why); }

// The element starting at `at`, which must end by `limit`.
Element read_element(std::string_view der, std::size_t at, std::size_t limit) {
    if (limit > der.size() || at + 2 > limit) bad_shape("truncated header");
    Element e;
    e.start = at;
    e.tag = static_cast<unsigned char>(der[at]);
    if ((e.tag & 0x1f) == 0x1f) bad_shape("high tag numbers are not used here");
    auto first = static_cast<unsigned char>(der[at + 1]);
    std::size_t len = 0, pos = at + 2;
    if (first < 0x80) {
        len = first;
    } else {
        std::size_t n = first & 0x7f;
        if (n == 0 || n > 4) bad_shape("indefinite or oversized length");
        if (pos + n > limit) bad_shape("truncated length");
        for (std::size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>(der[pos + i]);
        pos += n;
    }
    e.header = pos - at;
    if (len > limit - pos) bad_shape("content runs past its parent");
    e.end = pos + len;
    return e;
}

void append_header(std::string& out, unsigned char tag, std::size_t len) {
    out += static_cast<char>(tag);
    if (len < 0x80) {
        out += static_cast<char>(len);
        return;
    }
    unsigned char bytes[sizeof(std::size_t)];
    int n = 0;
    for (std::size_t v = len; v > 0; v >>= 8) bytes[n++] = static_cast<unsigned char>(v & 0xff);
    out += static_cast<char>(0x80 | n);
    while (n > 0) out += static_cast<char>(bytes[--n]);
}

// Tag and length bytes of an element whose content is `len` bytes.
std::size_t header_size(std::size_t len) {
    std::size_t n = 2;  // tag, and the length in short form
    if (len >= 0x80)
        for (std::size_t v = len; v > 0; v >>= 8) ++n;
    return n;
}

// The elements from the outermost one down `path`.
std::vector<Element> walk(std::string_view der, std::initializer_list<unsigned> path) {
    std::vector<Element> chain{read_element(der, 0, der.size())};
    if (chain.front().end != der.size()) bad_shape("bytes after the outermost element");
    for (unsigned index : path) {
        const Element parent = chain.back();
        if (!(parent.tag & 0x20)) bad_shape("a primitive element has no children");
        Element child = read_element(der, parent.start + parent.header, parent.end);
        for (unsigned i = 0; i < index; ++i) {
            if (child.end >= parent.end) {
                if (index == kDerLastChild) break;
                bad_shape("fewer children than the path names");
            }
            child = read_element(der, child.end, parent.end);
        }
        chain.push_back(child);
    }
    return chain;
}

}  // namespace

DerSpan der_element(std::string_view der, std::initializer_list<unsigned> path) {
    Element e = walk(der, path).back();
    return DerSpan{e.start, e.end - e.start, e.tag};
}

DerAround der_around_value(std::string_view der, std::initializer_list<unsigned> path, unsigned char target_tag,
                           std::initializer_list<unsigned char> wrappers, std::size_t value_size) {
    if (wrappers.size() == 0) bad_shape("no header for the value");
    // The chain of elements from the outermost to the one the value goes into.
    std::vector<Element> chain = walk(der, path);
    if (chain.back().tag != target_tag) bad_shape("the element reached has another tag");

    // The value's headers, innermost first computed: each encloses the next.
    std::vector<std::size_t> lengths(wrappers.size());
    std::size_t inner = value_size;
    for (std::size_t i = wrappers.size(); i-- > 0;) {
        lengths[i] = inner;
        inner += header_size(inner);
    }
    const std::size_t added = inner;  // every header of the value, and the value

    // Each element grows by what its child grew, the child's header included
    // (a header can need more length bytes once the content is longer).
    std::vector<std::size_t> grown(chain.size());
    std::size_t growth = added;
    for (std::size_t k = chain.size(); k-- > 0;) {
        const Element& e = chain[k];
        grown[k] = e.end - e.start - e.header + growth;
        growth = grown[k] + header_size(grown[k]) - (e.end - e.start);
    }

    DerAround out;
    out.head.reserve(der.size() + 16 * (chain.size() + wrappers.size()));
    std::size_t cursor = 0;
    for (std::size_t k = 0; k < chain.size(); ++k) {
        const Element& e = chain[k];
        out.head.append(der.substr(cursor, e.start - cursor));
        append_header(out.head, e.tag, grown[k]);
        cursor = e.start + e.header;
    }
    out.head.append(der.substr(cursor, chain.back().end - cursor));
    std::size_t i = 0;
    for (unsigned char tag : wrappers) append_header(out.head, tag, lengths[i++]);
    out.tail.assign(der.substr(chain.back().end));
    return out;
}

}  // namespace sealpost
