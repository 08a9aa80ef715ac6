// http_server.cpp: Beast sessions (plain and TLS), accept loop, graceful stop.
#include "http_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <set>

#include "errors.hpp"
#include "log.hpp"
#include "log_throttle.hpp"
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
    HttpHeaderCheck check;
    HttpHandler handler;
    tcp::acceptor acceptor;
    asio::steady_timer backoff;
    std::chrono::milliseconds pause{100};
    LogThrottle accept_failures{std::chrono::seconds(5)};
    LogThrottle over_cap{std::chrono::seconds(5)};
    std::mutex mutex;
    std::condition_variable idle;
    std::set<std::shared_ptr<HttpSessionBase>> sessions;
    std::atomic<int> in_flight{0};
    std::atomic<bool> stopping{false};

    State(asio::io_context& i, HttpServerOptions o, HttpHeaderCheck c, HttpHandler h)
        : io(i), options(std::move(o)), check(std::move(c)), handler(std::move(h)), acceptor(i), backoff(i) {}

    void accept();
    void on_accept(beast::error_code ec, tcp::socket socket);
    // Over the connection cap: one rate-limited log line.
    void note_over_cap();
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

    // Over the connection cap: 503 without reading the request.
    void refuse_busy() {
        asio::dispatch(beast::get_lowest_layer(stream_).get_executor(), [self = this->shared_from_this()] {
            self->linger_ = true;
            self->respond({503, R"({"message":"Too many connections, retry"})"}, 11, false);
        });
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
        // No body limit for the header read: Beast would check Content-Length
        // against it before the token; max_body is checked right after.
        // (Not boost::none: Boost 1.74's parser compares the length with the
        // empty optional and refuses every body.)
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        parser_->header_limit(64 * 1024);
        beast::get_lowest_layer(stream_).expires_after(state_->options.timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    WebhookRequest request_of(const http::request<http::string_body>& req) const {
        WebhookRequest wr;
        wr.method = std::string(req.method_string());
        wr.target = std::string(req.target());
        wr.content_type = std::string(req[http::field::content_type]);
        wr.token = std::string(req["X-MessageSystems-Webhook-Token"]);
        wr.batch_id = std::string(req["X-MessageSystems-Batch-ID"]);
        wr.peer = peer_;
        return wr;
    }

    void on_header(beast::error_code ec) {
        if (ec) return finish(ec);
        const auto& req = parser_->get();
        // A body still unread on the wire: the connection cannot carry
        // another request after a refusal.
        bool body_pending = !parser_->is_done();
        if (state_->check) {
            if (auto refusal = state_->check(request_of(req))) {
                if (body_pending) {
                    log()->debug("webhook: {}: refused with {}; announced body not read", peer_, refusal->status);
                    linger_ = true;
                }
                return respond(*refusal, req.version(), req.keep_alive() && !body_pending && !state_->stopping,
                               req.method() == http::verb::head);
            }
        }
        if (auto len = parser_->content_length(); len && *len > state_->options.max_body) {
            log()->warn("webhook: {}: Content-Length {} over the limit of {} bytes: 413", peer_, *len,
                        state_->options.max_body);
            linger_ = true;
            return respond({413, R"({"message":"Request body too large"})"}, req.version(), false);
        }
        parser_->body_limit(state_->options.max_body);
        if (body_pending && beast::iequals(req[http::field::expect], "100-continue")) {
            auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
            return http::async_write(stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code wec, std::size_t) {
                if (wec) return self->finish(wec);
                self->read_body();
            });
        }
        read_body();
    }

    void read_body() {
        beast::get_lowest_layer(stream_).expires_after(state_->options.timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::body_limit) {
            log()->warn("webhook: {}: request body over the limit of {} bytes: 413", peer_, state_->options.max_body);
            linger_ = true;
            metrics::webhook_requests().inc({"413"});  // answered before the handler
            return respond({413, R"({"message":"Request body too large"})"}, 11, false);
        }
        if (ec) return finish(ec);
        auto req = parser_->release();
        WebhookRequest wr = request_of(req);
        wr.body = std::move(req.body());
        unsigned version = req.version();
        bool keep_alive = req.keep_alive();
        bool head = req.method() == http::verb::head;
        busy_ = true;
        state_->in_flight++;
        // The handler blocks (DKIM DNS lookups, CMS, fsync): it runs on the
        // workers; the response is written back on this connection's strand.
        auto work = [self = this->shared_from_this(), wr = std::move(wr), version, keep_alive, head]() mutable {
            WebhookResponse r;
            try {
                r = self->state_->handler(wr);
            } catch (const std::exception& e) {
                log()->error("webhook: {}: internal error: {}", self->peer_, e.what());
                r = {500, R"({"message":"Internal Server Error"})"};
            }
            asio::post(beast::get_lowest_layer(self->stream_).get_executor(),
                       [self, r = std::move(r), version, keep_alive, head] {
                           self->busy_ = false;
                           self->respond(r, version, keep_alive && !self->state_->stopping, head);
                           self->state_->in_flight--;
                           self->state_->idle.notify_all();
                       });
        };
        if (state_->options.workers)
            asio::post(state_->options.workers, std::move(work));
        else
            work();
    }

    void respond(const WebhookResponse& r, unsigned version, bool keep_alive, bool head = false) {
        auto res = std::make_shared<http::response<http::string_body>>(to_response(r, version, keep_alive, head));
        beast::get_lowest_layer(stream_).expires_after(state_->options.timeout);
        http::async_write(stream_, *res, [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
            if (!ec && self->linger_) return self->linger_close();
            if (ec || !keep_alive) return self->finish(ec);
            self->read();
        });
    }

    // After answering a request whose body we did not read: closing at once
    // would make the kernel send RST (unread data), which can destroy the
    // answer before the client reads it. Send FIN, then read and discard
    // for at most 1 s or 1 MiB (nothing is kept), then close.
    void linger_close() {
        if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            stream_.expires_after(std::chrono::seconds(1));
            drain(std::make_shared<std::array<char, 16384>>(), 0);
        } else {
            finish({});
        }
    }

    void drain(std::shared_ptr<std::array<char, 16384>> scratch, std::size_t total) {
        auto& lowest = beast::get_lowest_layer(stream_);
        lowest.async_read_some(asio::buffer(*scratch), [self = this->shared_from_this(), scratch, total](
                                                           beast::error_code ec, std::size_t n) {
            if (ec || total + n > (1u << 20)) return self->finish({});
            self->drain(scratch, total + n);
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
    bool linger_ = false;  // the answer went out with a body unread: linger_close()
};

}  // namespace

void HttpServer::State::accept() {
    acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
    });
}

void HttpServer::State::note_over_cap() {
    std::size_t n = 0;
    if (over_cap.allow(n))
        log()->warn("webhook: {} connection(s) refused: [collector] max-connections = {} reached", n,
                    options.max_connections);
}

void HttpServer::State::on_accept(beast::error_code ec, tcp::socket socket) {
    auto self = shared_from_this();
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
        // EMFILE/ENFILE and friends: the connection stays in the backlog, so
        // an immediate retry fails at once, forever. Pause, then try again.
        std::size_t n = 0;
        if (accept_failures.allow(n))
            log()->warn("webhook: accept failed: {} ({} time(s) since the last report); pausing up to 1000 ms between tries",
                        ec.message(), n);
        backoff.expires_after(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(1000));
        backoff.async_wait([self](beast::error_code wec) {
            if (wec || !self->acceptor.is_open()) return;
            self->accept();
        });
        return;
    }
    pause = std::chrono::milliseconds(100);
    beast::error_code pec;
    auto ep = socket.remote_endpoint(pec);
    std::string peer = pec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    bool over;
    {
        std::lock_guard lock(mutex);
        over = sessions.size() >= options.max_connections;
    }
    if (over) note_over_cap();
    if (over && options.tls) {
        // No handshake for a connection we refuse: just close it.
        beast::error_code ignored;
        socket.close(ignored);
    } else if (options.tls) {
        auto s = std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *options.tls), self, peer);
        {
            std::lock_guard lock(mutex);
            sessions.insert(s);
        }
        s->start();
    } else {
        auto s = std::make_shared<HttpSession<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), self, peer);
        {
            std::lock_guard lock(mutex);
            sessions.insert(s);
        }
        // Over the cap: 503 at once, the request unread, then a lingering
        // close (at most 1 s) so the client can read the answer.
        if (over)
            s->refuse_busy();
        else
            s->start();
    }
    accept();
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, HttpHeaderCheck check, HttpHandler handler)
    : state_(std::make_shared<State>(io, std::move(options), std::move(check), std::move(handler))) {}

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
        st->backoff.cancel();
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
