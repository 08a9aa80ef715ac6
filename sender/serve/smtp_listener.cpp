// smtp_listener.cpp: Boost.Asio C++20 coroutines around SmtpProtocol.
#include "smtp_listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <mutex>
#include <set>

#include "errors.hpp"
#include "log.hpp"
#include "log_throttle.hpp"

namespace sealpost {
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {
constexpr std::size_t kMaxLine = 64 * 1024;
}

class Session;

struct SmtpListener::State : std::enable_shared_from_this<SmtpListener::State> {
    asio::io_context& io;
    asio::thread_pool& workers;
    SmtpListenerOptions options;
    SmtpMessageHandler handler;
    NetAllowList allow;
    tcp::acceptor acceptor;
    std::mutex mutex;
    std::set<std::shared_ptr<Session>> sessions;
    bool stopping = false;
    std::function<void()> on_drained;
    asio::steady_timer shutdown_deadline;
    LogThrottle accept_failures{std::chrono::seconds(5)};
    LogThrottle over_cap{std::chrono::seconds(5)};

    State(asio::io_context& i, asio::thread_pool& w, SmtpListenerOptions o, SmtpMessageHandler h)
        : io(i), workers(w), options(std::move(o)), handler(std::move(h)), allow(options.allow), acceptor(i),
          shutdown_deadline(i) {}

    void session_ended(const std::shared_ptr<Session>& s);
    awaitable<void> accept_loop();
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<SmtpListener::State> state)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), state_(std::move(state)),
          proto_(state_->options.hostname, state_->options.limits, state_->options.tls != nullptr) {
        boost::system::error_code ec;
        auto ep = socket_.remote_endpoint(ec);
        client_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    }

    void start() {
        auto self = shared_from_this();
        asio::co_spawn(socket_.get_executor(), [self]() { return self->run(); }, asio::detached);
        asio::co_spawn(socket_.get_executor(), [self]() { return self->watchdog(); }, asio::detached);
    }

    // At the shutdown deadline: whoever is not relaying is told 421 and
    // closed now (a relay in progress finishes, then dialogue() says 421).
    void force_close() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            self->stopping_ = true;
            if (self->busy_ || !self->socket_.is_open()) return;
            log()->warn("smtp: {}: still {} at the shutdown deadline: 421, closing", self->client_,
                        self->proto_.in_data() ? "sending DATA" : "connected");
            self->close_idle();
        });
    }

    // From stop(): on the session's strand.
    void shutdown() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            self->stopping_ = true;
            // A client in the middle of DATA finishes its message (dialogue()
            // says 421 after the reply); anyone else is told 421 now.
            if (!self->busy_ && !self->proto_.in_data()) self->close_idle();
        });
    }

private:
    void close_idle() {
        // An idle session is told why, then closed; the read in run() ends.
        static const std::string bye = "421 4.3.2 shutting down, try again later\r\n";
        boost::system::error_code ec;
        if (!tls_) asio::write(socket_, asio::buffer(bye), ec);
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
    }

    void touch() { deadline_ = std::chrono::steady_clock::now() + state_->options.timeout; }

    awaitable<void> watchdog() {
        touch();
        while (socket_.is_open()) {
            timer_.expires_at(deadline_);
            boost::system::error_code ec;
            co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
            if (deadline_ <= std::chrono::steady_clock::now() && socket_.is_open()) {
                log()->warn("smtp: {}: timed out, closing", client_);
                socket_.close(ec);
            }
        }
    }

    template <class Stream>
    awaitable<void> send(Stream& s, const std::string& text) {
        if (text.empty()) co_return;
        touch();
        co_await asio::async_write(s, asio::buffer(text), use_awaitable);
    }

    // Runs the dialogue on `s` until QUIT, STARTTLS (returns true) or error.
    template <class Stream>
    awaitable<bool> dialogue(Stream& s) {
        for (;;) {
            touch();
            std::size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(buf_, kMaxLine), '\n', use_awaitable);
            std::string line = buf_.substr(0, n - 1);
            buf_.erase(0, n);
            auto step = proto_.on_line(line);
            if (step.event == SmtpProtocol::Event::MessageReady) {
                busy_ = true;
                std::string reply = co_await deliver();
                busy_ = false;
                step = proto_.finish_message(reply);
                co_await send(s, step.reply);
                if (stopping_) {
                    co_await send(s, std::string("421 4.3.2 shutting down\r\n"));
                    co_return false;
                }
                continue;
            }
            co_await send(s, step.reply);
            if (step.event == SmtpProtocol::Event::Close) co_return false;
            if (stopping_ && !proto_.in_data()) {  // e.g. the 552 that ended an oversize message
                co_await send(s, std::string("421 4.3.2 shutting down\r\n"));
                co_return false;
            }
            if (step.event == SmtpProtocol::Event::StartTls) {
                if (!buf_.empty()) co_return false;  // plaintext injected after STARTTLS (RFC 3207 section 6)
                co_return true;
            }
        }
    }

    awaitable<std::string> deliver() {
        SmtpEnvelope env{proto_.mail_from(), proto_.recipients(), client_};
        auto handler = state_->handler;
        // The handler blocks (crypto, upstream relay): run it on the worker
        // pool, then resume this coroutine on its own strand.
        auto work = [handler, env = std::move(env), data = proto_.data()]() -> std::string {
            try {
                return handler(env, data);
            } catch (const std::exception& e) {
                log()->error("smtp: {}: internal error: {}", env.client, e.what());
                return "451 4.3.0 internal error, try again later\r\n";
            }
        };
        // The coroutine waits on a timer that the worker cancels (on this
        // session's strand) once the reply is ready.
        std::string reply;
        asio::steady_timer ready(socket_.get_executor(), std::chrono::steady_clock::time_point::max());
        asio::post(state_->workers, [ex = socket_.get_executor(), work = std::move(work), &reply, &ready]() mutable {
            std::string r = work();
            asio::post(ex, [&reply, &ready, r = std::move(r)]() mutable {
                reply = std::move(r);
                ready.cancel();
            });
        });
        boost::system::error_code ec;
        co_await ready.async_wait(asio::redirect_error(use_awaitable, ec));
        co_return reply;
    }

    awaitable<void> run() {
        try {
            if (!state_->allow.allows(socket_.remote_endpoint().address())) {
                log()->warn("smtp: {}: refused, not in [serve] allow ({})", client_, state_->allow.describe());
                co_await send(socket_, std::string("554 5.7.1 not allowed to connect\r\n"));
            } else {
                log()->info("smtp: {}: connected", client_);
                co_await send(socket_, proto_.greeting().reply);
                if (co_await dialogue(socket_)) {
                    asio::ssl::stream<tcp::socket&> tls(socket_, *state_->options.tls);
                    touch();
                    co_await tls.async_handshake(asio::ssl::stream_base::server, use_awaitable);
                    tls_ = true;
                    proto_.tls_started();
                    log()->info("smtp: {}: TLS started", client_);
                    co_await dialogue(tls);
                    boost::system::error_code ec;
                    tls.shutdown(ec);
                }
            }
        } catch (const boost::system::system_error& e) {
            if (e.code() == asio::error::not_found)
                log()->warn("smtp: {}: line longer than {} bytes, closing", client_, kMaxLine);
            else if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted &&
                     e.code() != asio::error::bad_descriptor)
                log()->info("smtp: {}: connection ended: {}", client_, e.code().message());
        }
        boost::system::error_code ec;
        socket_.close(ec);
        timer_.cancel();
        log()->info("smtp: {}: closed after {} message(s)", client_, proto_.message_count());
        state_->session_ended(shared_from_this());
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    std::shared_ptr<SmtpListener::State> state_;
    SmtpProtocol proto_;
    std::string buf_;
    std::string client_;
    std::chrono::steady_clock::time_point deadline_;
    bool busy_ = false;
    bool stopping_ = false;
    bool tls_ = false;
};

void SmtpListener::State::session_ended(const std::shared_ptr<Session>& s) {
    std::function<void()> done;
    {
        std::lock_guard lock(mutex);
        sessions.erase(s);
        if (stopping && sessions.empty()) done = std::move(on_drained);
    }
    if (done) {
        asio::post(io, [self = shared_from_this()] { self->shutdown_deadline.cancel(); });
        done();
    }
}

awaitable<void> SmtpListener::State::accept_loop() {
    auto self = shared_from_this();
    constexpr auto kMinPause = std::chrono::milliseconds(100), kMaxPause = std::chrono::milliseconds(1000);
    auto pause = kMinPause;
    asio::steady_timer backoff(io);
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket(asio::make_strand(io));
        co_await acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            // EMFILE/ENFILE and friends: the pending connection stays in the
            // backlog, so retrying at once would fail at once, forever.
            std::size_t n = 0;
            if (accept_failures.allow(n))
                log()->warn("smtp: accept failed: {} ({} time(s) since the last report); pausing up to {} ms between tries",
                            ec.message(), n, kMaxPause.count());
            backoff.expires_after(pause);
            co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
            pause = std::min(pause * 2, kMaxPause);
            continue;
        }
        pause = kMinPause;
        std::shared_ptr<Session> session;
        {
            std::lock_guard lock(mutex);
            if (stopping) co_return;
            if (sessions.size() < options.max_connections) {
                session = std::make_shared<Session>(std::move(socket), self);
                sessions.insert(session);
            }
        }
        if (!session) {
            std::size_t n = 0;
            if (over_cap.allow(n))
                log()->warn("smtp: {} connection(s) refused: [serve] max-connections = {} reached", n,
                            options.max_connections);
            static const std::string busy = "421 4.7.0 too many connections, try again later\r\n";
            socket.non_blocking(true, ec);
            asio::write(socket, asio::buffer(busy), ec);
            socket.shutdown(tcp::socket::shutdown_both, ec);
            socket.close(ec);
            continue;
        }
        session->start();
    }
}

SmtpListener::SmtpListener(asio::io_context& io, asio::thread_pool& workers, SmtpListenerOptions options,
                           SmtpMessageHandler handler)
    : state_(std::make_shared<State>(io, workers, std::move(options), std::move(handler))) {}

SmtpListener::~SmtpListener() = default;

void SmtpListener::start() {
    auto& a = state_->acceptor;
    boost::system::error_code ec;
    a.open(state_->options.endpoint.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(state_->options.endpoint, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        fail(ErrorKind::Config, "serve: cannot listen on " + state_->options.endpoint.address().to_string() + ":" +
                                    std::to_string(state_->options.endpoint.port()) + ": " + ec.message());
    asio::co_spawn(state_->io, state_->accept_loop(), asio::detached);
}

void SmtpListener::stop(std::function<void()> on_drained, std::chrono::steady_clock::duration deadline) {
    std::vector<std::shared_ptr<Session>> active;
    bool drained;
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
        state_->on_drained = std::move(on_drained);
        active.assign(state_->sessions.begin(), state_->sessions.end());
        drained = active.empty();
    }
    asio::post(state_->io, [st = state_] {
        boost::system::error_code ec;
        st->acceptor.close(ec);
    });
    for (auto& s : active) s->shutdown();
    if (!drained) {
        state_->shutdown_deadline.expires_after(deadline);
        state_->shutdown_deadline.async_wait([st = state_](const boost::system::error_code& ec) {
            if (ec) return;
            std::vector<std::shared_ptr<Session>> left;
            {
                std::lock_guard lock(st->mutex);
                left.assign(st->sessions.begin(), st->sessions.end());
            }
            if (!left.empty())
                log()->warn("serve: shutdown deadline reached: closing {} session(s) still open", left.size());
            for (auto& s : left) s->force_close();
        });
    }
    if (drained) {
        std::function<void()> done;
        {
            std::lock_guard lock(state_->mutex);
            done = std::move(state_->on_drained);
        }
        if (done) done();
    }
}

asio::ip::tcp::endpoint SmtpListener::local_endpoint() const { return state_->acceptor.local_endpoint(); }

}  // namespace sealpost
