// http_server.hpp: the collector's HTTP(S) server, Boost.Beast on the
// host's io_context: keep-alive, a deadline on every read and write (slow
// clients are cut off), a request body limit (413), HTTPS when a TLS
// context is given. It only moves bytes: every request goes to a handler
// function, WebhookRequest -> WebhookResponse.
// Nothing is buffered before authentication: the header is read first and
// given to `check` (path, method, token...); a request it refuses is
// answered without its body being read (and the connection closed when a
// body was announced); a Content-Length over max_body is 413 before any
// body byte. The handler runs on `workers` (it blocks: DKIM, CMS, fsync),
// and the response is written back on the connection's strand.
// Load: at most max_connections connections (one more: 503, or a plain
// close over TLS); when accept fails (EMFILE...) the server pauses 100 ms
// doubling to 1 s and logs at most one line per 5 s: it never spins.
// stop() closes the listener, lets requests in flight finish (up to a grace
// period) and closes idle keep-alive connections.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "webhook_handler.hpp"

namespace sealpost {

struct HttpServerOptions {
    boost::asio::ip::tcp::endpoint endpoint;
    std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
    std::size_t max_body = 50 * 1024 * 1024;
    std::chrono::seconds timeout{30};
    std::size_t max_connections = 512;
    boost::asio::any_io_executor workers;  // where the handler runs; empty: on the connection's strand
};

using HttpHandler = std::function<WebhookResponse(const WebhookRequest&)>;
// Called with the header only (body empty): a response refuses the request.
using HttpHeaderCheck = std::function<std::optional<WebhookResponse>(const WebhookRequest&)>;

class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHeaderCheck check, HttpHandler handler);
    ~HttpServer();
    void start();  // throws Error(Config) when it cannot bind
    void stop(std::chrono::seconds grace = std::chrono::seconds(30));
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace sealpost
