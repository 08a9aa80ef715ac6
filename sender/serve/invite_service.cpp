// invite_service.cpp: serve's invitation task and confirmations.
#include "invite_service.hpp"

#include <boost/asio/post.hpp>

#include "errors.hpp"
#include "log.hpp"
#include "send_pipeline.hpp"

namespace sealpost {

std::unique_ptr<InviteService> InviteService::make(const Config& config, CertStore& store,
                                                   std::shared_ptr<const RecipientPolicy> policy) {
    InviteOptions options = InviteOptions::from_config(config);
    if (!options.enabled && !options.confirm) return nullptr;
    return std::make_unique<InviteService>(config, store, std::move(policy), std::move(options));
}

InviteService::InviteService(const Config& config, CertStore& store, std::shared_ptr<const RecipientPolicy> policy,
                             InviteOptions options)
    : config_(config), store_(store) {
    SendOptions so;
    so.sign = SignMode::Detached;
    identities_ = open_signing_identities(config, so);
    bool enabled = options.enabled;
    inviter_ = std::make_unique<Inviter>(std::move(options), std::move(policy), store, *identities_);
    if (enabled) recorder_ = std::make_shared<WantedRecorder>(store);
    make_transport(config);  // a bad transport setting is exit 78 now
}

InviteService::~InviteService() { stop(); }

void InviteService::start() {
    if (!inviter_->options().enabled) return;
    thread_ = std::thread([this] { loop(); });
    log()->info("invite: invitations every {} s (interval {} s, max-per-day {})", inviter_->options().run_every,
                inviter_->options().interval, inviter_->options().max_per_day);
}

void InviteService::stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void InviteService::loop() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        lock.unlock();
        run_once();
        lock.lock();
        cv_.wait_for(lock, std::chrono::seconds(inviter_->options().run_every), [this] { return stop_; });
    }
}

void InviteService::run_once() {
    try {
        if (recorder_) recorder_->flush();  // what was recorded so far counts in this run
        auto transport = make_transport(config_);
        auto report = inviter_->run(*transport, std::time(nullptr), false, 0);
        transport->finish_batch();
        for (const auto& line : report.lines) log()->info("invite: {}", line);
        if (report.sent || report.failed || report.daily_limit)
            log()->info("invite: run: {} sent, {} failed, {} not due yet", report.sent, report.failed, report.not_due);
    } catch (const std::exception& e) {
        log()->error("invite: run failed (next run in {} s): {}", inviter_->options().run_every, e.what());
    }
}

void InviteService::collected(const std::string& address, const boost::asio::any_io_executor& workers) {
    if (!inviter_->options().confirm) return;
    boost::asio::post(workers, [this, address] {
        try {
            auto transport = make_transport(config_);
            inviter_->confirm(*transport, address, std::time(nullptr));
            transport->finish_batch();
        } catch (const std::exception& e) {
            log()->error("invite: confirmation to {} not sent: {}", address, e.what());
        }
    });
}

}  // namespace sealpost
