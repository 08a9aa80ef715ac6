// http_server.cpp: Beast sessions (plain and TLS), accept loop, graceful stop.
#include "http_server.hpp"

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>

#include "errors.hpp"
#include "log.hpp"
#include "metrics.hpp"

namespace sealpost {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class HttpSessionBase {
public:
    virtual ~HttpSessionBase() = default;
    virtual void close() = 0;
};

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
    asio::io_context& io;
    HttpServerOptions options;
    HttpHandler handler;
    tcp::acceptor acceptor;
    std::mutex mutex;
    std::condition_variable idle;
    std::set<std::shared_ptr<HttpSessionBase>> sessions;
    std::atomic<int> in_flight{0};
    std::atomic<bool> stopping{false};

    State(asio::io_context& i, HttpServerOptions o, HttpHandler h)
        : io(i), options(std::move(o)), handler(std::move(h)), acceptor(i) {}

    void accept();
    void ended(const std::shared_ptr<HttpSessionBase>& s) {
        std::lock_guard lock(mutex);
        sessions.erase(s);
        idle.notify_all();
    }
};

namespace {

// `head`: the answer to a HEAD request: the headers of the GET answer
// (Content-Length included) and no body, or a keep-alive client would read
// the body as the start of the next response (RFC 9110 section 9.3.2).
http::response<http::string_body> to_response(const WebhookResponse& r, unsigned version, bool keep_alive,
                                              bool head = false) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "sealpost-collector");
    res.set(http::field::content_type, "application/json");
    if (r.status == 405) res.set(http::field::allow, "POST");
    res.keep_alive(keep_alive);
    res.body() = r.body;
    res.prepare_payload();
    if (head) res.body().clear();
    return res;
}

template <class Stream>
class HttpSession : public HttpSessionBase, public std::enable_shared_from_this<HttpSession<Stream>> {
public:
    HttpSession(Stream stream, std::shared_ptr<HttpServer::State> state, std::string peer)
        : stream_(std::move(stream)), state_(std::move(state)), peer_(std::move(peer)) {}

    void start() {
        if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
            read();
        } else {
            beast::get_lowest_layer(stream_).expires_after(state_->options.timeout);
            stream_.async_handshake(asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        if (ec) return self->finish(ec);
                                        self->read();
                                    });
        }
    }

    void close() override {
        asio::post(beast::get_lowest_layer(stream_).get_executor(), [self = this->shared_from_this()] {
            if (!self->busy_) beast::get_lowest_layer(self->stream_).close();
        });
    }

private:
    void read() {
        if (state_->stopping) return finish({});
        parser_.emplace();
        parser_->body_limit(state_->options.max_body);
        parser_->header_limit(64 * 1024);
        beast::get_lowest_layer(stream_).expires_after(state_->options.timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::body_limit) {
            log()->warn("webhook: {}: request body over the limit of {} bytes: 413", peer_, state_->options.max_body);
            metrics::webhook_requests().inc({"413"});  // answered before the handler
            return respond({413, R"({"message":"Request body too large"})"}, 11, false);
        }
        if (ec) return finish(ec);
        auto req = parser_->release();
        WebhookRequest wr;
        wr.method = std::string(req.method_string());
        wr.target = std::string(req.target());
        wr.content_type = std::string(req[http::field::content_type]);
        wr.token = std::string(req["X-MessageSystems-Webhook-Token"]);
        wr.batch_id = std::string(req["X-MessageSystems-Batch-ID"]);
        wr.body = std::move(req.body());
        wr.peer = peer_;
        busy_ = true;
        state_->in_flight++;
        WebhookResponse r;
        try {
            r = state_->handler(wr);
        } catch (const std::exception& e) {
            log()->error("webhook: {}: internal error: {}", peer_, e.what());
            r = {500, R"({"message":"Internal Server Error"})"};
        }
        state_->in_flight--;
        busy_ = false;
        respond(r, req.version(), req.keep_alive() && !state_->stopping, req.method() == http::verb::head);
    }

    void respond(const WebhookResponse& r, unsigned version, bool keep_alive, bool head = false) {
        auto res = std::make_shared<http::response<http::string_body>>(to_response(r, version, keep_alive, head));
        beast::get_lowest_layer(stream_).expires_after(state_->options.timeout);
        http::async_write(stream_, *res, [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
            if (ec || !keep_alive) return self->finish(ec);
            self->read();
        });
    }

    void finish(beast::error_code ec) {
        if (ec && ec != http::error::end_of_stream && ec != asio::error::operation_aborted && ec != beast::error::timeout &&
            ec != asio::error::eof)
            log()->debug("webhook: {}: connection ended: {}", peer_, ec.message());
        if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
            beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
                beast::error_code ignored;
                beast::get_lowest_layer(self->stream_).socket().close(ignored);
                self->state_->ended(self->shared_from_this());
            });
        } else {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
            stream_.close();
            state_->ended(this->shared_from_this());
        }
    }

    Stream stream_;
    std::shared_ptr<HttpServer::State> state_;
    std::string peer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    bool busy_ = false;
};

}  // namespace

void HttpServer::State::accept() {
    acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
        if (!ec) {
            beast::error_code pec;
            auto ep = socket.remote_endpoint(pec);
            std::string peer = pec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
            std::shared_ptr<HttpSessionBase> base;
            if (self->options.tls) {
                auto s = std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(
                    beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *self->options.tls),
                    self, peer);
                base = s;
                {
                    std::lock_guard lock(self->mutex);
                    self->sessions.insert(base);
                }
                s->start();
            } else {
                auto s = std::make_shared<HttpSession<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), self, peer);
                base = s;
                {
                    std::lock_guard lock(self->mutex);
                    self->sessions.insert(base);
                }
                s->start();
            }
        }
        self->accept();
    });
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, HttpHandler handler)
    : state_(std::make_shared<State>(io, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() = default;

void HttpServer::start() {
    auto& a = state_->acceptor;
    beast::error_code ec;
    a.open(state_->options.endpoint.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(state_->options.endpoint, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        fail(ErrorKind::Config, "collector: cannot listen on " + state_->options.endpoint.address().to_string() + ":" +
                                    std::to_string(state_->options.endpoint.port()) + ": " + ec.message());
    state_->accept();
}

void HttpServer::stop(std::chrono::seconds grace) {
    state_->stopping = true;
    asio::post(state_->io, [st = state_] {
        beast::error_code ec;
        st->acceptor.close(ec);
    });
    std::vector<std::shared_ptr<HttpSessionBase>> sessions;
    {
        std::lock_guard lock(state_->mutex);
        sessions.assign(state_->sessions.begin(), state_->sessions.end());
    }
    for (auto& s : sessions) s->close();
    std::unique_lock lock(state_->mutex);
    state_->idle.wait_for(lock, grace, [&] { return state_->sessions.empty() && state_->in_flight == 0; });
}

tcp::endpoint HttpServer::local_endpoint() const { return state_->acceptor.local_endpoint(); }

}  // namespace sealpost
