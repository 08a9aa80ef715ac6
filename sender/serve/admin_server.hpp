// admin_server.hpp: the admin listener of `serve` ([admin] listen, default
// 127.0.0.1:9855, off when empty): a small Beast HTTP/1.1 server on the
// host's io_context in front of AdminApi (admin_api.hpp).
//
// Hostile input is bounded before authentication: request line and headers
// 8 KiB (431), a body 4 KiB (413: no endpoint takes one), target 2 KiB (414),
// 10 s to read a request and to write the answer, at most 64 connections
// (more are closed at once). Configuration errors, including a non-loopback
// address without [admin] token, and a port that cannot be bound throw
// Error(Config) (exit 78) at start: never a silently missing listener.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "admin_api.hpp"
#include "config.hpp"

namespace sealpost {

class AdminServer {
public:
    AdminServer(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint, std::shared_ptr<AdminApi> api);
    ~AdminServer();

    void start();  // binds and accepts; throws Error(Config) when it cannot bind
    void stop();   // closes the acceptor; connections end at their deadline or answer
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    struct State;

private:
    std::shared_ptr<State> state_;
};

// From [admin]: nullptr when `listen` is empty. Validates everything (exit 78
// for a non-loopback address without a token) before anything listens.
std::unique_ptr<AdminServer> make_admin_server(const Config& config, boost::asio::io_context& io, CertStore& store);

}  // namespace sealpost
