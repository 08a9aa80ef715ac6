// http_server.hpp: the collector's HTTP(S) server, Boost.Beast on the
// host's io_context: keep-alive, a deadline on every read and write (slow
// clients are cut off), a request body limit (413), HTTPS when a TLS
// context is given. It only moves bytes: every request goes to a handler
// function, WebhookRequest -> WebhookResponse.
// stop() closes the listener, lets requests in flight finish (up to a grace
// period) and closes idle keep-alive connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <memory>

#include "webhook_handler.hpp"

namespace sealpost {

struct HttpServerOptions {
    boost::asio::ip::tcp::endpoint endpoint;
    std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
    std::size_t max_body = 50 * 1024 * 1024;
    std::chrono::seconds timeout{30};
};

using HttpHandler = std::function<WebhookResponse(const WebhookRequest&)>;

class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHandler handler);
    ~HttpServer();
    void start();  // throws Error(Config) when it cannot bind
    void stop(std::chrono::seconds grace = std::chrono::seconds(30));
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace sealpost
