// bounded_json.cpp: nlohmann's DOM parser, one pass, stopped at the first
// container nested too deep.
#include "bounded_json.hpp"

namespace sealpost {
namespace {

using json = nlohmann::json;

// Thrown by the parser callback: ends the parse at the bracket too many.
struct TooDeep {};

}  // namespace

std::optional<json> parse_json_bounded(std::string_view body, std::size_t max_depth, std::string& why) {
    // `depth` counts the containers already open around this one (0 for
    // the root), so the container that would be level max_depth + 1 stops it.
    auto bounded = [max_depth](int depth, json::parse_event_t event, json&) {
        if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
            static_cast<std::size_t>(depth) >= max_depth)
            throw TooDeep{};
        return true;
    };
    try {
        return json::parse(body, bounded, /*allow_exceptions=*/true);
    } catch (const TooDeep&) {
        why = "nested deeper than " + std::to_string(max_depth) + " levels";
    } catch (const json::parse_error& e) {
        why = "malformed at byte " + std::to_string(e.byte) + ": " + e.what();
    } catch (const json::exception& e) {
        why = std::string("not JSON: ") + e.what();
    }
    return std::nullopt;
}

}  // namespace sealpost
