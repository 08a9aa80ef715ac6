// admin_server.cpp: accept loop and one coroutine per connection.
#include "admin_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>

#include "cipher.hpp"
#include "errors.hpp"
#include "listen_endpoint.hpp"
#include "log.hpp"
#include "metrics.hpp"

namespace sealpost {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t kMaxHeader = 8 * 1024, kMaxBody = 4 * 1024, kMaxTarget = 2 * 1024;
constexpr int kMaxConnections = 64;
constexpr auto kDeadline = std::chrono::seconds(10);
}  // namespace

struct AdminServer::State : std::enable_shared_from_this<AdminServer::State> {
    State(asio::io_context& i, tcp::endpoint e, std::shared_ptr<AdminApi> a)
        : io(i), endpoint(e), api(std::move(a)), acceptor(i) {}
    asio::io_context& io;
    tcp::endpoint endpoint;
    std::shared_ptr<AdminApi> api;
    tcp::acceptor acceptor;
    std::atomic<int> connections{0};

    asio::awaitable<void> accept_loop();
    asio::awaitable<void> session(tcp::socket socket);
};

namespace {

// Answers the server gives before the handler (bounds); counted like the handler's.
AdminResponse plain_error(int status, const char* text) {
    metrics::admin_requests().inc({std::to_string(status)});
    return {status, "application/json", std::string("{\"error\": \"") + text + "\"}\n", ""};
}

}  // namespace

asio::awaitable<void> AdminServer::State::accept_loop() {
    auto self = shared_from_this();
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            log()->warn("admin: accept: {}", ec.message());
            continue;
        }
        if (connections.load() >= kMaxConnections) {
            log()->warn("admin: over {} connections: one closed", kMaxConnections);
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        asio::co_spawn(acceptor.get_executor(), self->session(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> AdminServer::State::session(tcp::socket socket) {
    auto self = shared_from_this();
    ++connections;
    struct Release {
        std::atomic<int>& n;
        ~Release() { --n; }
    } release{connections};
    boost::system::error_code pec;
    auto remote = socket.remote_endpoint(pec);
    std::string peer = pec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(kMaxHeader + kMaxBody);
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(kMaxHeader);
        parser.body_limit(kMaxBody);
        stream.expires_after(kDeadline);
        boost::system::error_code ec;
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        AdminResponse r;
        bool keep_alive = false;
        unsigned version = 11;
        bool head = false;
        if (ec == http::error::body_limit) r = plain_error(413, "request body too large");
        else if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
            r = plain_error(431, "request header fields too large");
        else if (ec) break;  // closed, timed out or not HTTP: nothing to answer
        else {
            auto& req = parser.get();
            version = req.version();
            head = req.method() == http::verb::head;
            keep_alive = req.keep_alive();
            if (req.target().size() > kMaxTarget) r = plain_error(414, "URI too long");
            else {
                AdminRequest ar{std::string(req.method_string()), std::string(req.target()),
                                std::string(req[http::field::authorization]), peer};
                r = api->handle(ar);
            }
        }
        http::response<http::string_body> res{static_cast<http::status>(r.status), version};
        res.set(http::field::server, "sealpost-admin");
        res.set(http::field::content_type, r.content_type);
        if (!r.allow.empty()) res.set(http::field::allow, r.allow);
        if (r.status == 401) res.set(http::field::www_authenticate, "Bearer realm=\"sealpost\"");
        res.keep_alive(keep_alive);
        res.body() = std::move(r.body);
        res.prepare_payload();
        if (head) res.body().clear();
        stream.expires_after(kDeadline);
        boost::system::error_code wec;
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, wec));
        if (wec || !keep_alive) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
}

AdminServer::AdminServer(asio::io_context& io, tcp::endpoint endpoint, std::shared_ptr<AdminApi> api)
    : state_(std::make_shared<State>(io, endpoint, std::move(api))) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
    auto& a = state_->acceptor;
    boost::system::error_code ec;
    a.open(state_->endpoint.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(state_->endpoint, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        fail(ErrorKind::Config, "[admin] listen: cannot listen on " + state_->endpoint.address().to_string() + ":" +
                                    std::to_string(state_->endpoint.port()) + ": " + ec.message() +
                                    " (set another address, or an empty listen to turn the admin listener off)");
    asio::co_spawn(state_->io, state_->accept_loop(), asio::detached);
}

void AdminServer::stop() {
    asio::post(state_->acceptor.get_executor(), [s = state_] {
        boost::system::error_code ignored;
        s->acceptor.close(ignored);
    });
}

tcp::endpoint AdminServer::local_endpoint() const {
    boost::system::error_code ec;
    return state_->acceptor.local_endpoint(ec);
}

std::unique_ptr<AdminServer> make_admin_server(const Config& config, asio::io_context& io, CertStore& store) {
    // Set but empty: the admin listener is off (get_or would take the default).
    std::string listen = config.get("admin", "listen").value_or("127.0.0.1:9855");
    if (listen.empty()) return nullptr;
    auto endpoint = parse_listen_endpoint(listen, "[admin] listen");
    AdminOptions o;
    o.token = config.get_or("admin", "token", "");
    o.metrics_public = config.get_bool("admin", "metrics-public", false);
    o.revocation = RevocationOptions::from_config(config);
    if (auto c = config.get("sender", "cipher"); c && !c->empty() && *c != "auto") o.cipher = cipher_name(parse_cipher(*c));
    if (o.token.empty() && !endpoint.address().is_loopback())
        fail(ErrorKind::Config, "[admin] listen = " + listen +
                                    " is not a loopback address: set [admin] token (anyone who can reach it could "
                                    "read and forget certificates)");
    if (o.token.empty())
        log()->warn("admin: no [admin] token: any local user can read the admin API; DELETE is refused");
    return std::make_unique<AdminServer>(io, endpoint, std::make_shared<AdminApi>(std::move(o), store));
}

}  // namespace sealpost
