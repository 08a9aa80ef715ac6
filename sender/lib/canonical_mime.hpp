// canonical_mime.hpp: a message that needs no rewriting, recognised
// without GMime (issue 14: GMime's parse, object model and write were
// 17-19 % of `send` on statements).
//
// "Canonical" is deliberately narrow: every byte 7-bit and not NUL, line
// ends all LF or all CRLF, header blocks of well-formed fields (lines of
// at most 998 bytes) ended by a blank line, one strictly simple
// Content-Type per entity, no message/* part, at most 8 levels, multiparts
// whose delimiter lines are exact and closed (no other "--" followed by an
// open boundary anywhere, even inside a line: GMime reads long lines in
// pieces), and leaves that make_seven_bit_safe would leave as they are
// (base64, quoted-printable, or 7bit text of safe lines); and cheap to
// see: a message whose "--" would make the walk cost more than GMime's
// parse (1 in 32 bytes, over all levels) is left to GMime too. For such a message GMime
// writes the entity as the top header block's Content-* fields and the
// body as they stand, line ends made CRLF, and a line end after each close
// delimiter that has none (append_canonical_body); canonical_prepare_test checks
// that against the GMime path byte for byte, over shapes and the fuzz
// corpora. Anything else is not canonical and takes the GMime path.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost {

struct HeaderField {
    std::string_view name;
    std::string_view value;  // after the colon, folds kept, the final line end dropped
    std::string_view whole;  // name through value: the field as it stands
};

struct HeaderBlock {
    std::vector<HeaderField> fields;
    std::string_view body;  // after the blank line
};

// The fields of `text` up to its first blank line, and what follows it.
// nullopt when a line before the blank line is neither a field ("name:",
// name of printable ASCII) nor the continuation of one, or there is no
// blank line.
std::optional<HeaderBlock> split_header_block(std::string_view text);

// The fields of `block` called `name` (any case), in order.
std::vector<const HeaderField*> fields_named(const HeaderBlock& block, std::string_view name);

// A field's value with its folds removed (unfold_header) and surrounding
// white space trimmed.
std::string unfolded(std::string_view value);

enum class LineEnds { Lf, Crlf };

// How `text` ends its lines when every byte is 1-127 and every line ends
// alike: all LF, or all CRLF (no line end at all counts as LF); nullopt
// otherwise (an 8-bit byte, a NUL, a lone CR, LF and CRLF mixed).
std::optional<LineEnds> seven_bit_line_ends(std::string_view text);

struct CanonicalShape {
    int parts = 0;
    // Where GMime's writer ends a line the input left open: after a close
    // delimiter at the very end, or a nested one's directly before the
    // enclosing delimiter (in order; pointers into the body).
    std::vector<const char*> added_line_ends;
};

// The shape of the entity whose header block is `top` when the entity is
// canonical (above) and within the limits; nullopt otherwise.
std::optional<CanonicalShape> canonical_entity_shape(const HeaderBlock& top, int max_depth, int max_parts);

// `body` (the top block's) as GMime writes it: CRLF line ends (copied
// whole when the input's are already), and the shape's added line ends.
void append_canonical_body(std::string& out, std::string_view body, LineEnds ends, const CanonicalShape& shape);

}  // namespace sealpost
