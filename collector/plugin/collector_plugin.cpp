// collector_plugin.cpp: the collector as a sealpost plugin: the inbound
// relay webhook (webhook_handler) behind the HTTP server (http_server), on
// the host's io_context, writing to the host's one CertStore, so the next
// message `serve` relays to a collected address is encrypted, without a
// restart; and the `collect` command (collect_command.hpp). Reads
// [collector] (and the original's [webapp] keys): listen (default
// 127.0.0.1:8855), token, allow-no-token, trusted-certs, dkim,
// dkim-alignment, dkim-keys, verify-at, tls-cert, tls-key, max-body,
// max-connections. Without a token the webhook refuses to start unless
// allow-no-token = yes. Bad settings make start() throw Error(Config); the
// host then exits 78.
//
// The handler runs on the collector's own worker threads ([collector]
// threads, default the number of cores), not the host's pool that relays
// SMTP: a saturated webhook never queues an SMTP session's message behind
// its batches. They run at a lower CPU priority ([collector] nice, 0..19,
// default 10, set per thread): with both busy the scheduler gives the SMTP
// relay most of the cores, so its reply time stays near its idle value
// while the collector takes what is left (alone, the collector runs at
// full speed: nice only matters when threads compete).
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "collect.hpp"
#include "collect_command.hpp"
#include "errors.hpp"
#include "http_server.hpp"
#include "listen_endpoint.hpp"
#include "server_tls.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "plugin_api.hpp"
#include "webhook_handler.hpp"

namespace sealpost {
namespace {

// Threads running an io_context as a worker pool, each at `nice`.
class WorkerPool {
public:
    WorkerPool(std::size_t threads, int nice) : guard_(boost::asio::make_work_guard(io_)) {
        for (std::size_t i = 0; i < threads; ++i)
            threads_.emplace_back([this, nice] {
                // Linux: PRIO_PROCESS with a thread id sets that thread only.
                if (nice != 0 && ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice) != 0)
                    log()->warn("collector: cannot lower the worker thread's priority: {}", std::strerror(errno));
                io_.run();
            });
    }
    ~WorkerPool() { join(); }
    // Lets queued work finish, then joins.
    void join() {
        guard_.reset();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }
    boost::asio::any_io_executor executor() { return io_.get_executor(); }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

class CollectorPlugin final : public Plugin {
public:
    std::string name() const override { return "collector"; }

    void start(Host& host) override {
        const Config& config = host.config();
        CollectOptions options = CollectOptions::from_config(config);
        options.source = "webhook";
        auto anchors = TrustAnchors::load(options.trusted_certs);
        std::string token = config.get_or("collector", "token", config.get_or("webapp", "x-messagesystems-webhook-token", ""));
        if (token.empty()) {
            if (!config.get_bool("collector", "allow-no-token", false))
                fail(ErrorKind::Config,
                     "collector: no webhook token: set [collector] token (the X-MessageSystems-Webhook-Token the relay "
                     "sends), or `allow-no-token = yes` in [collector] to let any client post");
            log()->warn("collector: no webhook token configured and allow-no-token = yes: any client may post");
        }
        handler_ = std::make_shared<WebhookHandler>(token, options, host.store(), anchors);
        handler_->on_stored([&host](const std::string& address) { host.certificate_collected(address); });

        HttpServerOptions ho;
        ho.endpoint = parse_listen_endpoint(config.get_or("collector", "listen", "127.0.0.1:8855"), "[collector] listen");
        ho.max_body = static_cast<std::size_t>(config.get_size("collector", "max-body", 50 * 1024 * 1024));
        long long max_conn = config.get_size("collector", "max-connections", 512);
        if (max_conn < 1 || max_conn > 1000000) fail(ErrorKind::Config, "[collector] max-connections must be 1..1000000");
        ho.max_connections = static_cast<std::size_t>(max_conn);
        long threads = config.get_size("collector", "threads", std::max(2u, std::thread::hardware_concurrency()));
        if (threads < 1 || threads > 256) fail(ErrorKind::Config, "[collector] threads must be 1..256");
        long nice = config.get_size("collector", "nice", 10);
        if (nice < 0 || nice > 19) fail(ErrorKind::Config, "[collector] nice must be 0..19");
        pool_ = std::make_unique<WorkerPool>(static_cast<std::size_t>(threads), static_cast<int>(nice));
        ho.workers = pool_->executor();
        ho.tls = server_tls_context(config, "collector");
        auto handler = handler_;
        server_ = std::make_unique<HttpServer>(
            host.io(), ho,
            [handler](const WebhookRequest& r) {
                auto refusal = handler->check_headers(r);  // answered before the body is read
                if (refusal) metrics::webhook_requests().inc({std::to_string(refusal->status)});
                return refusal;
            },
            [handler](const WebhookRequest& r) {
                auto start = std::chrono::steady_clock::now();
                auto res = handler->handle(r);
                metrics::webhook_requests().inc({std::to_string(res.status)});
                metrics::webhook_seconds().observe(
                    {}, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
                return res;
            });
        server_->start();
        auto ep = server_->local_endpoint();
        log()->info("collector: webhook listening on {}://{}:{}, dkim={} alignment={}, trust {} ({} anchors), "
                    "{} worker threads at nice {}",
                    ho.tls ? "https" : "http", ep.address().to_string(), ep.port(), to_string(options.dkim),
                    to_string(options.alignment), anchors->path(), anchors->count(), threads, nice);
    }

    std::vector<PluginCommand> commands() const override {
        return {{"collect", "verify signed mail and store the signer's certificate", run_collect_command}};
    }

    void stop() override {
        if (server_) server_->stop();
        server_.reset();
        if (pool_) pool_->join();
        pool_.reset();
    }

private:
    std::shared_ptr<WebhookHandler> handler_;
    std::unique_ptr<WorkerPool> pool_;
    std::unique_ptr<HttpServer> server_;
};

std::shared_ptr<Plugin> create_collector_plugin() { return std::make_shared<CollectorPlugin>(); }

}  // namespace
}  // namespace sealpost

SEALPOST_PLUGIN(sealpost::create_collector_plugin)
