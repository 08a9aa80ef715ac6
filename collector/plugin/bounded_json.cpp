// bounded_json.cpp: nlohmann's own tree builder driven by one event-driven
// pass that counts the depth and stops at the first container too deep.
#include "bounded_json.hpp"

#include <cstring>

namespace sealpost {
namespace {

using json = nlohmann::json;

// nlohmann's internal builder: its shape changed in 3.12 (a second
// template parameter); this is written against 3.11 (Debian 12's).
static_assert(NLOHMANN_JSON_VERSION_MAJOR == 3 && NLOHMANN_JSON_VERSION_MINOR == 11,
              "bounded_json.cpp derives from nlohmann 3.11's json_sax_dom_parser: port it to this version");

// A rejection's reason for the log: nlohmann's message carries the whole
// token read so far (a 50 MB string: 50 MB of message).
constexpr std::size_t kMaxWhy = 300;

// nlohmann's DOM builder (json::parse without a callback uses the same),
// with the depth counted on the way in. Not json::parse's callback form: its
// builder searches the parent for discarded values at every closing brace,
// quadratic in the members of one container.
class BoundedDom : public nlohmann::detail::json_sax_dom_parser<json> {
public:
    BoundedDom(json& root, std::size_t max_depth) : json_sax_dom_parser(root, false), max_(max_depth) {}
    std::string why;

    bool start_object(std::size_t len) { return enter() && json_sax_dom_parser::start_object(len); }
    bool start_array(std::size_t len) { return enter() && json_sax_dom_parser::start_array(len); }
    bool end_object() { return --depth_, json_sax_dom_parser::end_object(); }
    bool end_array() { return --depth_, json_sax_dom_parser::end_array(); }

    template <class Exception>
    bool parse_error(std::size_t position, const std::string&, const Exception& e) {
        why = "malformed at byte " + std::to_string(position) + ": " + std::string(e.what()).substr(0, kMaxWhy);
        return false;
    }

private:
    bool enter() {
        if (++depth_ <= max_) return true;
        why = "nested deeper than " + std::to_string(max_) + " levels";
        return false;
    }
    std::size_t max_;
    std::size_t depth_ = 0;
};

}  // namespace

std::optional<json> parse_json_bounded(std::string_view body, std::size_t max_depth, std::string& why) {
    // nlohmann's input ends at a NUL byte: "[1]\0anything" would pass whole.
    if (const void* nul = std::memchr(body.data(), '\0', body.size())) {
        why = "malformed at byte " + std::to_string(static_cast<const char*>(nul) - body.data()) + ": a NUL byte";
        return std::nullopt;
    }
    json doc;
    BoundedDom dom(doc, max_depth);
    if (!json::sax_parse(body, &dom, json::input_format_t::json, /*strict=*/true)) {
        why = dom.why.empty() ? "not JSON" : dom.why;
        return std::nullopt;
    }
    return doc;
}

}  // namespace sealpost
