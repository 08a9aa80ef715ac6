// ascii.hpp: the one set of ASCII case helpers. Protocol tokens (header
// names, MIME types, domains, SMTP keywords, config values) compare without
// regard to ASCII case and never by locale: 'I' lower-cases to 'i' in every
// locale here, never to a dotless i.
#pragma once

#include <string>
#include <string_view>

namespace sealpost {

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace sealpost
