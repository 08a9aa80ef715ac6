// net_allow.cpp: CIDR matching for IPv4 and IPv6 (v4-mapped v6 treated as v4).
#include "net_allow.hpp"

#include <algorithm>

#include "errors.hpp"

namespace sealpost {
namespace ip = boost::asio::ip;
namespace {

ip::address unmap(const ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
    return a;
}

bool prefix_match(const unsigned char* a, const unsigned char* b, unsigned bits) {
    for (unsigned i = 0; i < bits / 8; ++i)
        if (a[i] != b[i]) return false;
    if (bits % 8 == 0) return true;
    unsigned char mask = static_cast<unsigned char>(0xFF << (8 - bits % 8));
    return (a[bits / 8] & mask) == (b[bits / 8] & mask);
}

}  // namespace

NetAllowList::NetAllowList(const std::string& spec_in) {
    std::string spec = spec_in.empty() ? "127.0.0.0/8, ::1/128" : spec_in;
    std::size_t start = 0;
    while (start < spec.size()) {
        std::size_t comma = spec.find_first_of(", ", start);
        std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        start = comma == std::string::npos ? spec.size() : comma + 1;
        if (item.empty()) continue;
        auto slash = item.find('/');
        boost::system::error_code ec;
        auto base = unmap(ip::make_address(item.substr(0, slash), ec));
        if (ec) fail(ErrorKind::Config, "[serve] allow: '" + item + "' is not an address or network");
        unsigned max = base.is_v4() ? 32 : 128, prefix = max;
        if (slash != std::string::npos) {
            // Digits only: std::stoul alone would take "8x", "+8" or " 8" as 8.
            std::string digits = item.substr(slash + 1);
            bool ok = !digits.empty() && digits.size() <= 3 &&
                      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
            prefix = ok ? static_cast<unsigned>(std::stoul(digits)) : max + 1;
        }
        if (prefix > max) fail(ErrorKind::Config, "[serve] allow: '" + item + "' has a bad prefix length");
        nets_.push_back({base, prefix});
    }
}

bool NetAllowList::allows(const ip::address& a_in) const {
    ip::address a = unmap(a_in);
    for (const auto& n : nets_) {
        if (n.base.is_v4() != a.is_v4()) continue;
        if (a.is_v4()) {
            auto x = a.to_v4().to_bytes(), y = n.base.to_v4().to_bytes();
            if (prefix_match(x.data(), y.data(), n.prefix)) return true;
        } else {
            auto x = a.to_v6().to_bytes(), y = n.base.to_v6().to_bytes();
            if (prefix_match(x.data(), y.data(), n.prefix)) return true;
        }
    }
    return false;
}

std::string NetAllowList::describe() const {
    std::string out;
    for (const auto& n : nets_) out += (out.empty() ? "" : ", ") + n.base.to_string() + "/" + std::to_string(n.prefix);
    return out;
}

}  // namespace sealpost
