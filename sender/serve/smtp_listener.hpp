// smtp_listener.hpp: the SMTP listener of `sealpost serve`: accepts
// connections (only from allowed networks), runs one SmtpProtocol per
// connection as a coroutine on its own strand, offers STARTTLS when a TLS
// context is given, enforces a deadline on every read and write, and hands
// each complete message to a handler on the worker pool (the handler may
// block: it signs, encrypts and relays). The handler's reply is what the
// client gets: 250 only once the transport accepted the message.
// stop(): no new connections; idle sessions get 421; a session in the middle
// of DATA or of relaying finishes that message first (then 421); at the
// shutdown deadline every session still in DATA or idle gets 421 and is
// closed (one being relayed finishes relaying, bounded by the transport's
// timeout, then gets 421). `on_drained` runs when the last session ends.
// Load: at most `max_connections` sessions; one more gets `421 4.7.0 too
// many connections` and is closed. When accept fails (EMFILE, ENFILE,
// ENOBUFS...) the listener pauses 100 ms, doubling to 1 s while it keeps
// failing, and logs at most one line per 5 s with the count: it never spins.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net_allow.hpp"
#include "smtp_protocol.hpp"

namespace sealpost {

struct SmtpEnvelope {
    std::string mail_from;
    std::vector<std::string> recipients;
    std::string client;  // peer address, for the log
};

// Returns the complete SMTP reply line(s) for the message, e.g. "250 2.0.0 queued\r\n".
using SmtpMessageHandler = std::function<std::string(const SmtpEnvelope&, const std::string& data)>;

struct SmtpListenerOptions {
    boost::asio::ip::tcp::endpoint endpoint;
    std::string hostname = "localhost";
    SmtpLimits limits;
    std::shared_ptr<boost::asio::ssl::context> tls;  // null: no STARTTLS
    std::string allow;                               // CIDR list; "" = loopback
    std::chrono::seconds timeout{300};
    std::size_t max_connections = 512;
};

class SmtpListener {
public:
    SmtpListener(boost::asio::io_context& io, boost::asio::thread_pool& workers, SmtpListenerOptions options,
                 SmtpMessageHandler handler);
    ~SmtpListener();

    // Binds and starts accepting; throws Error(Config) when it cannot bind.
    void start();
    void stop(std::function<void()> on_drained,
              std::chrono::steady_clock::duration deadline = std::chrono::seconds(30));
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    struct State;  // shared with the sessions

private:
    std::shared_ptr<State> state_;
};

}  // namespace sealpost
