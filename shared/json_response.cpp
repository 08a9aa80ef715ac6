// json_response.cpp: see json_response.hpp.
#include "json_response.hpp"

#include <nlohmann/json.hpp>

namespace sealpost {

std::string json_message_body(std::string_view key, std::string_view text, JsonLayout layout) {
    nlohmann::json body{{std::string(key), std::string(text)}};
    constexpr auto replace = nlohmann::json::error_handler_t::replace;
    if (layout == JsonLayout::Pretty) return body.dump(2, ' ', false, replace) + "\n";
    return body.dump(-1, ' ', false, replace);
}

}  // namespace sealpost
