// serve_host.cpp: wiring and lifecycle of `sealpost serve`.
#include "serve_host.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <unistd.h>
#ifdef SEALPOST_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <future>
#include <thread>

#include "admin_server.hpp"
#include "errors.hpp"
#include "identity.hpp"
#include "invite_service.hpp"
#include "listen_endpoint.hpp"
#include "server_tls.hpp"
#include "log.hpp"
#include "message_relay.hpp"
#include "plugin_loader.hpp"
#include "revocation_refresher.hpp"
#include "send_pipeline.hpp"
#include "smtp_listener.hpp"
#include "store_location.hpp"

namespace sealpost {
namespace asio = boost::asio;

namespace {

// systemd Type=notify (sealpost.service); a no-op without NOTIFY_SOCKET or libsystemd.
void notify_systemd([[maybe_unused]] const char* state) {
#ifdef SEALPOST_HAVE_SYSTEMD
    ::sd_notify(0, state);
#endif
}

}  // namespace

ServeHost::ServeHost(Config config, std::filesystem::path default_plugin_dir)
    : config_(std::move(config)), default_plugin_dir_(std::move(default_plugin_dir)) {
    // serve writes the store (the collector plugin), so it creates it.
    store_ = open_configured_store(config_, StoreAccess::CreateIfMissing);
    if (!store_) fail(ErrorKind::Config, "serve: no certificate store: set [store] dir (or --store)");
}

ServeHost::~ServeHost() = default;

int ServeHost::run() {
    SendOptions options = SendOptions::from_config(config_);
    auto identities = open_signing_identities(config_, options);
    auto invites = InviteService::make(config_, *store_, options.policy);  // [invite]: checked now (exit 78)
    if (invites) options.wanted = invites->recorder();
    SendPipeline pipeline(options, store_.get(), identities.get());

    unsigned hw = std::max(2u, std::thread::hardware_concurrency());
    long threads = config_.get_size("serve", "threads", hw);
    if (threads < 1 || threads > 256) fail(ErrorKind::Config, "[serve] threads must be 1..256");
    workers_ = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(threads));
    asio::thread_pool& workers = *workers_;
    MessageRelay relay(config_, pipeline, static_cast<std::size_t>(threads));

    SmtpListenerOptions lo;
    lo.endpoint = parse_listen_endpoint(config_.get_or("serve", "listen", "127.0.0.1:2525"), "[serve] listen");
    lo.limits.max_message_bytes = static_cast<std::size_t>(config_.get_size("serve", "max-message-size", 10 << 20));
    lo.tls = server_tls_context(config_, "serve");
    lo.allow = config_.get_or("serve", "allow", "");
    long max_conn = config_.get_size("serve", "max-connections", 512);
    if (max_conn < 1 || max_conn > 1000000) fail(ErrorKind::Config, "[serve] max-connections must be 1..1000000");
    lo.max_connections = static_cast<std::size_t>(max_conn);
    long shutdown_timeout = config_.get_size("serve", "shutdown-timeout", 30);
    if (shutdown_timeout < 0 || shutdown_timeout > 86400)
        fail(ErrorKind::Config, "[serve] shutdown-timeout must be 0..86400 seconds");
    char host[256] = "localhost";
    ::gethostname(host, sizeof host - 1);
    lo.hostname = host;
    SmtpListener listener(io_, workers, lo, [&relay](const SmtpEnvelope& e, const std::string& d) {
        return relay.handle(e, d);
    });

    auto admin = make_admin_server(config_, io_, *store_);  // validates [admin] before anything listens
    auto plugins = load_plugins(config_, default_plugin_dir_);
    listener.start();
    if (admin) admin->start();
    auto guard = asio::make_work_guard(io_);
    std::vector<std::thread> io_threads;
    for (long i = 0; i < threads; ++i) io_threads.emplace_back([this] { io_.run(); });
    auto join_all = [&] {
        guard.reset();
        io_.stop();
        for (auto& t : io_threads) t.join();
        workers.join();
        // Handlers posted while stopping (a plugin server's acceptor close)
        // run now, while the plugins' code is still loaded: left queued, they
        // would be destroyed with io_ after the plugin is unloaded (SIGSEGV).
        io_.restart();
        io_.poll();
    };
    invites_ = invites.get();
    try {
        start_plugins(plugins, *this);
    } catch (...) {
        join_all();
        throw;
    }
    if (admin) {
        auto aep = admin->local_endpoint();
        log()->info("serve: admin API and metrics on {}:{}", aep.address().to_string(), aep.port());
    }
    auto ep = listener.local_endpoint();
    log()->info("serve: ready: SMTP on {}:{}{}, store {}, {} worker threads, plugins: {}", ep.address().to_string(),
                ep.port(), lo.tls ? " (STARTTLS)" : "", store_->describe(), threads, plugins.size());
    notify_systemd("READY=1");  // both listeners (SMTP, plugins') accept now
    RevocationRefresher refresher(*store_, RevocationOptions::from_config(config_));  // stops before the store closes
    if (invites) invites->start();

    std::promise<void> drained;
    asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal;
    on_signal = [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            reopen_log();
            log()->info("serve: SIGHUP: log file reopened");
            signals.async_wait(on_signal);
            return;
        }
        log()->info("serve: signal {}: no new connections, finishing messages in flight (at most {} s)", sig,
                    shutdown_timeout);
        notify_systemd("STOPPING=1");
        if (admin) admin->stop();
        listener.stop([&drained] { drained.set_value(); }, std::chrono::seconds(shutdown_timeout));
    };
    signals.async_wait(on_signal);
    drained.get_future().wait();
    // Plugins stop on this thread while the io threads still run, so their
    // in-flight requests can complete.
    stop_plugins(plugins);
    if (invites) invites->stop();
    signals.cancel();
    join_all();  // confirmations posted to the workers finish here
    invites_ = nullptr;
    log()->info("serve: stopped");
    return 0;
}

void ServeHost::certificate_collected(const std::string& address) {
    if (invites_) invites_->collected(address, workers());
}

}  // namespace sealpost
