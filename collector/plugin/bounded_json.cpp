// bounded_json.cpp: a depth-counting SAX pass, then nlohmann's DOM parser.
#include "bounded_json.hpp"

namespace sealpost {
namespace {

using json = nlohmann::json;

class DepthCheck final : public nlohmann::json_sax<json> {
public:
    explicit DepthCheck(std::size_t max) : max_(max) {}
    std::string why;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return enter(); }
    bool end_object() override { return leave(); }
    bool start_array(std::size_t) override { return enter(); }
    bool end_array() override { return leave(); }
    bool key(string_t&) override { return true; }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
        why = "malformed at byte " + std::to_string(position) + ": " + e.what();
        return false;
    }

private:
    bool enter() {
        if (++depth_ <= max_) return true;
        why = "nested deeper than " + std::to_string(max_) + " levels";
        return false;
    }
    bool leave() {
        --depth_;
        return true;
    }
    std::size_t max_;
    std::size_t depth_ = 0;
};

}  // namespace

std::optional<json> parse_json_bounded(std::string_view body, std::size_t max_depth, std::string& why) {
    DepthCheck check(max_depth);
    if (!json::sax_parse(body, &check, json::input_format_t::json, true)) {
        why = check.why.empty() ? "not JSON" : check.why;
        return std::nullopt;
    }
    auto doc = json::parse(body, nullptr, false);
    if (doc.is_discarded()) {
        why = "malformed";
        return std::nullopt;
    }
    return doc;
}

}  // namespace sealpost
