// json_response.hpp: the body of a JSON answer that carries one message,
// the one helper both HTTP servers use for their refusals and errors: the
// admin API ({"error": "..."}, pretty-printed, newline-terminated) and the
// webhook ({"message": "..."}, compact: the relay's own format). Bytes of
// `text` that are not UTF-8 are replaced (U+FFFD), never thrown on.
#pragma once

#include <string>
#include <string_view>

namespace sealpost {

enum class JsonLayout { Compact, Pretty };

std::string json_message_body(std::string_view key, std::string_view text, JsonLayout layout);

}  // namespace sealpost
