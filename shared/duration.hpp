// duration.hpp: "6h", "30d", "45m", "90s" or plain seconds, for
// [revocation] refresh-interval and `certs list --expiring 30d`.
// Pure; an unreadable value is nullopt (the caller names the key).
#pragma once

#include <optional>
#include <string_view>

namespace sealpost {

std::optional<long long> parse_duration_seconds(std::string_view text);

}  // namespace sealpost
