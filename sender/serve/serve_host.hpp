// serve_host.hpp: the process of `sealpost serve`: the io_context and its
// threads, the one CertStore, the SMTP listener, the plugins (Host
// implementation), and orderly shutdown: SIGTERM/SIGINT stop accepting,
// let in-flight messages finish until [serve] shutdown-timeout (then 421
// and close), stop the plugins, return; SIGHUP reopens the log file.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <filesystem>
#include <memory>

#include "cert_store.hpp"
#include "config.hpp"
#include "plugin_api.hpp"

namespace sealpost {

class InviteService;

class ServeHost final : public Host {
public:
    ServeHost(Config config, std::filesystem::path default_plugin_dir);
    ~ServeHost() override;

    const Config& config() const override { return config_; }
    CertStore& store() override { return *store_; }
    boost::asio::io_context& io() override { return io_; }
    boost::asio::any_io_executor workers() override { return workers_->get_executor(); }
    void certificate_collected(const std::string& address) override;  // [invite] confirm (invite_service.hpp)

    // Runs until SIGTERM/SIGINT; returns the exit code.
    int run();

private:
    Config config_;
    std::filesystem::path default_plugin_dir_;
    std::unique_ptr<CertStore> store_;
    boost::asio::io_context io_;
    std::unique_ptr<boost::asio::thread_pool> workers_;  // made by run(), before the plugins start
    InviteService* invites_ = nullptr;             // run()'s, while it runs; null when [invite] is off
};

}  // namespace sealpost
