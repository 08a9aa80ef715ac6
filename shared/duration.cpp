// duration.cpp: parse_duration_seconds (duration.hpp).
#include "duration.hpp"

#include <charconv>
#include <system_error>

namespace sealpost {

std::optional<long long> parse_duration_seconds(std::string_view text) {
    if (text.empty()) return std::nullopt;
    long long unit = 1;
    switch (text.back()) {
        case 's': unit = 1; text.remove_suffix(1); break;
        case 'm': unit = 60; text.remove_suffix(1); break;
        case 'h': unit = 3600; text.remove_suffix(1); break;
        case 'd': unit = 86400; text.remove_suffix(1); break;
        default: break;
    }
    long long n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 0) return std::nullopt;
    if (n > (1LL << 40) / unit) return std::nullopt;
    return n * unit;
}

}  // namespace sealpost
