// net_allow.hpp: which clients may talk to the SMTP listener: a list of
// networks in CIDR form (`[serve] allow = 127.0.0.0/8, ::1/128, 10.0.0.0/8`),
// loopback only by default. Throws Error(Config) for a malformed entry.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <string>
#include <vector>

namespace sealpost {

class NetAllowList {
public:
    // "" means loopback only.
    explicit NetAllowList(const std::string& spec);
    bool allows(const boost::asio::ip::address& a) const;
    std::string describe() const;

private:
    struct Net {
        boost::asio::ip::address base;
        unsigned prefix;
    };
    std::vector<Net> nets_;
};

}  // namespace sealpost
