// canonical_mime.cpp: header blocks, a strict Content-Type, and the walk
// over a canonical entity's tree (see the header).
#include "canonical_mime.hpp"

#include <algorithm>
#include <cstring>

#include "ascii.hpp"
#include "byte_scan.hpp"
#include "mime.hpp"
#include "transfer_encode.hpp"

namespace sealpost {
namespace {

constexpr std::size_t kMaxBoundary = 70;  // RFC 2046
constexpr std::size_t kMaxHeaderLine = 998;  // RFC 5322; GMime gives up on field names near 4 KB
// Statements nest three deep; each level scans its body again, so deeper
// trees are left to GMime.
constexpr int kMaxCanonicalDepth = 8;

// One line of `text` from `pos`: its bytes without the line end, and where
// the next line starts.
struct Line {
    std::string_view text;
    std::size_t begin = 0;
    std::size_t next = 0;
};

Line line_at(std::string_view text, std::size_t pos) {
    std::size_t nl = text.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    Line line{text.substr(pos, end - pos), pos, nl == std::string_view::npos ? text.size() : nl + 1};
    if (!line.text.empty() && line.text.back() == '\r') line.text.remove_suffix(1);
    return line;
}

// Where the line end before the line starting at `begin` starts.
std::size_t before_line_end(std::string_view text, std::size_t begin) {
    if (begin == 0) return 0;
    return begin >= 2 && text[begin - 2] == '\r' ? begin - 2 : begin - 1;
}

// Where the next "--" at or after `pos` starts, or text.size(); npos once
// `budget` of them have been found (byte_scan.hpp: a statement's text has
// dashes on every line, a base64 body none).
std::size_t next_double_dash(std::string_view text, std::size_t pos, std::size_t& budget) {
    std::size_t at = find_pair(text, pos, '-', '-');
    if (at == text.size()) return at;
    return budget-- == 0 ? std::string_view::npos : at;
}

bool is_field_name_char(char c) { return c > 32 && c < 127 && c != ':'; }

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 2045 token characters.
bool is_token_char(char c) { return c > 32 && c < 127 && !std::strchr("()<>@,;:\\\"/[]?=", c); }

// RFC 2046 bchars, without the space (allowed inside, never at the end).
bool is_boundary_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || std::strchr("'()+_,-./:=?", c);
}

std::string_view token_at(std::string_view s, std::size_t& i) {
    std::size_t start = i;
    while (i < s.size() && is_token_char(s[i])) ++i;
    return s.substr(start, i - start);
}

struct SimpleContentType {
    std::string type;     // lower case
    std::string boundary;
};

// "type/subtype" with "; name=value" parameters, values tokens or quoted
// strings without escapes; nullopt for anything else (comments, RFC 2231,
// stray characters), which GMime may read otherwise than we would.
std::optional<SimpleContentType> simple_content_type(std::string_view v) {
    SimpleContentType ct;
    std::size_t i = 0;
    std::string_view type = token_at(v, i);
    if (type.empty() || i >= v.size() || v[i] != '/') return std::nullopt;
    ++i;
    if (token_at(v, i).empty()) return std::nullopt;
    ct.type = ascii_lower(type);
    bool have_boundary = false;
    for (;;) {
        while (i < v.size() && is_wsp(v[i])) ++i;
        if (i == v.size()) return ct;
        if (v[i] != ';') return std::nullopt;
        ++i;
        while (i < v.size() && is_wsp(v[i])) ++i;
        std::string_view name = token_at(v, i);
        if (name.empty() || name.find('*') != std::string_view::npos || i >= v.size() || v[i] != '=')
            return std::nullopt;
        ++i;
        std::string_view value;
        if (i < v.size() && v[i] == '"') {
            std::size_t close = v.find('"', i + 1);
            if (close == std::string_view::npos) return std::nullopt;
            value = v.substr(i + 1, close - i - 1);
            if (value.find('\\') != std::string_view::npos) return std::nullopt;
            i = close + 1;
        } else {
            value = token_at(v, i);
            if (value.empty()) return std::nullopt;
        }
        if (iequals(name, "boundary")) {
            if (have_boundary) return std::nullopt;
            have_boundary = true;
            ct.boundary = value;
        }
    }
}

// GMime decodes a parameter value holding "=?" as an RFC 2047 word.
bool simple_boundary(std::string_view b) {
    return !b.empty() && b.size() <= kMaxBoundary && std::all_of(b.begin(), b.end(), is_boundary_char) &&
           b.find("=?") == std::string_view::npos;
}

class Walk {
public:
    // `dashes`: how many "--" the walk may look at in all (every level scans
    // its body again, and each "--" is compared with every open boundary:
    // input made of dashes would cost many times GMime's parse).
    Walk(int max_depth, int max_parts, std::size_t dashes)
        : max_depth_(max_depth), max_parts_(max_parts), dashes_left_(dashes) {}

    bool entity(const HeaderBlock& block, int depth) {
        ++shape_.parts;
        if (shape_.parts > max_parts_ || depth > std::min(max_depth_, kMaxCanonicalDepth)) return false;
        auto types = fields_named(block, "Content-Type");
        auto encodings = fields_named(block, "Content-Transfer-Encoding");
        if (types.size() != 1 || encodings.size() > 1) return false;
        auto ct = simple_content_type(unfolded(types.front()->value));
        if (!ct) return false;
        std::string encoding = encodings.empty() ? "" : ascii_lower(unfolded(encodings.front()->value));
        if (ct->type == "multipart") {
            if (!encoding.empty() && encoding != "7bit") return false;
            return multipart(block.body, ct->boundary, depth);
        }
        if (ct->type == "message") return false;
        // As make_seven_bit_safe decides, for content already known 7-bit:
        // encoded parts stay, text and unlabelled parts only with safe lines.
        if (encoding == "base64" || encoding == "quoted-printable") return true;
        if (encoding == "7bit" && ct->type != "text") return true;
        if (!encoding.empty() && encoding != "7bit") return false;
        return seven_bit_safe_text(block.body);
    }

    CanonicalShape shape() const { return shape_; }

private:
    // Whether `rest` (what follows a "--") starts with an open boundary.
    bool names_open_boundary(std::string_view rest) const {
        return std::any_of(open_.begin(), open_.end(), [&](std::string_view b) { return rest.starts_with(b); });
    }

    bool multipart(std::string_view body, std::string_view boundary, int depth) {
        if (!simple_boundary(boundary)) return false;
        for (std::string_view b : open_)  // nested boundaries must not be read as each other
            if (b.starts_with(boundary) || boundary.starts_with(b)) return false;
        const std::string delimiter = "--" + std::string(boundary);
        const std::string close = delimiter + "--";
        // A false ends the whole walk, so open_ is left as it stands then.
        std::vector<std::string_view> children;
        std::optional<std::size_t> part_start;
        bool closed = false;
        open_.push_back(boundary);
        // Every "--" is looked at: the exact delimiter lines split the
        // body; any other "--" followed by an open boundary, at a line's
        // start or inside one, is not canonical (GMime takes delimiters by
        // prefix, and reads a line longer than its 4 KB buffer's headroom
        // in pieces, each of which it checks like a line).
        for (std::size_t at = 0; (at = next_double_dash(body, at, dashes_left_)) != body.size(); ++at) {
            if (at == std::string_view::npos) return false;  // out of budget: left to GMime
            if (at > 0 && body[at - 1] != '\n') {
                if (names_open_boundary(body.substr(at + 2))) return false;
                continue;
            }
            Line line = line_at(body, at);
            if (!closed && (line.text == delimiter || line.text == close)) {
                if (part_start) {
                    std::size_t end = before_line_end(body, line.begin);
                    if (end <= *part_start) return false;
                    children.push_back(body.substr(*part_start, end - *part_start));
                }
                part_start = line.next;
                closed = line.text == close;
                if (closed && children.empty()) return false;
                // GMime ends the close delimiter's line where the input does
                // not (the last line, or a nested multipart's before the
                // enclosing delimiter's line end).
                if (closed && body[line.next - 1] != '\n') {
                    // At the end of the input, GMime keeps the CR of the
                    // line end before it in the last part: not ours to copy.
                    if (depth == 1 && before_line_end(body, line.begin) + 2 == line.begin) return false;
                    shape_.added_line_ends.push_back(body.data() + line.next);
                }
                at = line.next - 1;  // past the delimiter's line (the loop adds one)
                continue;
            }
            if (names_open_boundary(line.text.substr(2))) return false;
        }
        if (!closed) return false;
        for (std::string_view child : children) {
            auto block = split_header_block(child);
            if (!block || !entity(*block, depth + 1)) return false;
        }
        open_.pop_back();
        return true;
    }

    int max_depth_;
    int max_parts_;
    std::size_t dashes_left_;
    CanonicalShape shape_;
    std::vector<std::string_view> open_;  // boundaries of the enclosing multiparts
};

}  // namespace

std::optional<HeaderBlock> split_header_block(std::string_view text) {
    HeaderBlock block;
    for (std::size_t pos = 0; pos < text.size();) {
        Line line = line_at(text, pos);
        if (line.text.size() > kMaxHeaderLine) return std::nullopt;
        if (line.text.empty()) {
            if (text[line.next - 1] != '\n') return std::nullopt;  // a CR at the end, not a blank line
            block.body = text.substr(line.next);
            return block;
        }
        pos = line.next;
        if (is_wsp(line.text.front())) {  // a fold of the field before
            if (block.fields.empty()) return std::nullopt;
            HeaderField& f = block.fields.back();
            const char* end = text.data() + line.begin + line.text.size();
            f.value = std::string_view(f.value.data(), static_cast<std::size_t>(end - f.value.data()));
            f.whole = std::string_view(f.whole.data(), static_cast<std::size_t>(end - f.whole.data()));
            continue;
        }
        std::size_t colon = line.text.find(':');
        if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
        std::string_view name = line.text.substr(0, colon);
        if (!std::all_of(name.begin(), name.end(), is_field_name_char)) return std::nullopt;
        block.fields.push_back(HeaderField{name, line.text.substr(colon + 1), line.text});
    }
    return std::nullopt;  // no blank line
}

std::vector<const HeaderField*> fields_named(const HeaderBlock& block, std::string_view name) {
    std::vector<const HeaderField*> out;
    for (const HeaderField& f : block.fields)
        if (iequals(f.name, name)) out.push_back(&f);
    return out;
}

std::string unfolded(std::string_view value) {
    std::string out = unfold_header(value);
    std::size_t b = out.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    std::size_t e = out.find_last_not_of(" \t");
    return out.substr(b, e - b + 1);
}

__attribute__((target_clones("avx2", "default"))) std::optional<LineEnds> seven_bit_line_ends(std::string_view text) {
    // One pass of byte-wide ORs, no branch per byte, so the compiler
    // vectorises it (this reads every byte of every message): an 8-bit
    // byte, a NUL or a CR not followed by an LF is bad; CRs and LFs
    // without a CR must not both occur (GMime reads mixed line ends in
    // ways of its own).
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    if (n == 0) return LineEnds::Lf;
    unsigned char bad = 0, cr = 0, bare_lf = p[0] == '\n';
    for (std::size_t i = 0; i + 1 < n; ++i) {
        bad |= static_cast<unsigned char>((p[i] >= 0x80) | (p[i] == 0) | ((p[i] == '\r') & (p[i + 1] != '\n')));
        cr |= static_cast<unsigned char>(p[i] == '\r');
        bare_lf |= static_cast<unsigned char>((p[i + 1] == '\n') & (p[i] != '\r'));
    }
    bad |= static_cast<unsigned char>((p[n - 1] >= 0x80) | (p[n - 1] == 0) | (p[n - 1] == '\r'));
    if (bad || (cr && bare_lf)) return std::nullopt;
    return cr ? LineEnds::Crlf : LineEnds::Lf;
}

std::optional<CanonicalShape> canonical_entity_shape(const HeaderBlock& top, int max_depth, int max_parts) {
    // Statements have a "--" per delimiter and a few in their text; 1 in
    // 32 bytes, counted over every level, is far above that.
    Walk walk(max_depth, max_parts, top.body.size() / 32 + 4096);
    if (!walk.entity(top, 1)) return std::nullopt;
    CanonicalShape shape = walk.shape();
    std::sort(shape.added_line_ends.begin(), shape.added_line_ends.end());
    return shape;
}

void append_canonical_body(std::string& out, std::string_view body, LineEnds ends, const CanonicalShape& shape) {
    auto append = [&](const char* from, const char* to) {
        std::string_view piece(from, static_cast<std::size_t>(to - from));
        if (ends == LineEnds::Crlf)
            out += piece;
        else
            append_crlf(out, piece);
    };
    const char* from = body.data();
    for (const char* at : shape.added_line_ends) {
        append(from, at);
        out += "\r\n";
        from = at;
    }
    append(from, body.data() + body.size());
}

}  // namespace sealpost
