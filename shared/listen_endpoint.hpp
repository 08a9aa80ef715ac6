// listen_endpoint.hpp: "address:port" (IPv6 as "[::1]:25") from a config
// value, for the host's SMTP listener and the plugins' servers alike.
// Throws Error(Config) naming the key and the value.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <cctype>
#include <string>

#include "errors.hpp"

namespace sealpost {

inline boost::asio::ip::tcp::endpoint parse_listen_endpoint(const std::string& spec, const std::string& key) {
    auto colon = spec.rfind(':');
    std::string host = colon == std::string::npos ? "" : spec.substr(0, colon);
    std::string port = colon == std::string::npos ? "" : spec.substr(colon + 1);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(host, ec);
    bool digits = !port.empty() && port.size() <= 5;
    for (char c : port) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (ec || !digits || std::stoul(port) > 65535)
        fail(ErrorKind::Config, key + " = '" + spec + "': use address:port, e.g. 127.0.0.1:2525 or [::1]:2525");
    return {addr, static_cast<unsigned short>(std::stoul(port))};
}

}  // namespace sealpost
