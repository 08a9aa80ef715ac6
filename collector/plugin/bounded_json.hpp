// bounded_json.hpp: JSON parsing for bodies from the network, bounded
// before any tree is built: an event-driven (SAX) pass refuses nesting
// deeper than `max_depth` at the first bracket too many (so a body of forty
// million `[` costs microseconds, not gigabytes), then the document is
// parsed into a tree. Time and memory stay within a small multiple of the
// body size. Returns nothing and sets `why` (offset and reason) when the
// body is not acceptable JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sealpost {

inline constexpr std::size_t kMaxJsonDepth = 64;

std::optional<nlohmann::json> parse_json_bounded(std::string_view body, std::size_t max_depth, std::string& why);

}  // namespace sealpost
