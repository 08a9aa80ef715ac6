// mime_prescan.hpp: a cheap, non-recursive look at raw message bytes before
// GMime sees them. GMime's parser recurses once per nested multipart or
// message/rfc822, so a few kilobytes of nested boundaries could exhaust the
// stack; this scan bounds the nesting from above and fails first.
//
// Trusts nothing. Over-estimates rather than under-estimates: every line
// that looks like a Content-Type header opening a multipart (with a
// boundary) or a message/* part opens a level; a delimiter line "--B" closes
// the levels opened inside B, "--B--" closes B as well. Levels opened by
// message/* parts close only with an enclosing boundary, as in GMime.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sealpost {

struct PrescanResult {
    int max_depth = 0;   // upper bound of the MIME nesting
    int delimiters = 0;  // boundary delimiter lines seen (about the part count)
};

PrescanResult prescan_mime(std::string_view raw, int stop_at_depth, int stop_at_delimiters);

// nullopt when the bytes may go to GMime under these limits, else the reason.
std::optional<std::string> prescan_problem(std::string_view raw, int max_depth, int max_parts);

}  // namespace sealpost
