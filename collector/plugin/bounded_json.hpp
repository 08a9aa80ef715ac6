// bounded_json.hpp: JSON parsing for bodies from the network, bounded as
// the tree is built: one pass that stops at the first bracket nested deeper
// than `max_depth` (so a body of forty million `[` costs microseconds, not
// gigabytes). Time and memory stay within a small multiple of the body
// size (linear: a container of 100,000 members too). Returns nothing and
// sets `why` (offset and reason) when the body is not acceptable JSON. (The
// lexer reads a byte at a time: a second pass over a webhook batch cost a
// tenth of the collector's CPU.)
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sealpost {

inline constexpr std::size_t kMaxJsonDepth = 64;

std::optional<nlohmann::json> parse_json_bounded(std::string_view body, std::size_t max_depth, std::string& why);

}  // namespace sealpost
