// bounded_json.cpp: nlohmann's own tree builder driven by one event-driven
// pass that counts the depth and stops at the first container too deep.
#include "bounded_json.hpp"

namespace sealpost {
namespace {

using json = nlohmann::json;

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
        why = "malformed at byte " + std::to_string(position) + ": " + e.what();
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
    json doc;
    BoundedDom dom(doc, max_depth);
    if (!json::sax_parse(body, &dom, json::input_format_t::json, /*strict=*/true) || dom.is_errored()) {
        why = dom.why.empty() ? "not JSON" : dom.why;
        return std::nullopt;
    }
    return doc;
}

}  // namespace sealpost
