// entity_splice.hpp: the MIME entity to protect, serialised with CRLF line
// ends as GMime's writer would (write_crlf), byte for byte, without pushing
// the large parts through GMime's newline filter (issue 14: the writer was
// 11 % of `send` at 1 MB).
//
// GMime writes a leaf whose content it did not re-encode verbatim (its raw
// stream through the newline filter). So each such leaf of 1 KiB or more
// whose content still lies in the parse buffer gets a short placeholder
// for the time of the write; GMime writes the small rest (headers,
// boundaries, re-encoded parts), and the leaves' own bytes are spliced in
// where their placeholders stand, line ends made CRLF in the same pass.
// The tree is restored before returning. entity_splice_test.cpp checks the
// result against write_crlf over inline cases and, by hand, the fuzzers'
// corpora.
#pragma once

#include <gmime/gmime.h>

#include <string>

namespace sealpost {

std::string write_entity_crlf(GMimeObject* root, std::size_t size_hint);

}  // namespace sealpost
