// revocation_refresher.cpp: the refresh loop (revocation_refresher.hpp).
#include "revocation_refresher.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "errors.hpp"
#include "log.hpp"
#include "revocation_refresh.hpp"

namespace sealpost {

RevocationRefresher::RevocationRefresher(CertStore& store, RevocationOptions options)
    : store_(store), options_(options) {
    if (options_.mode == RevocationMode::Off) return;
    thread_ = std::thread([this] { loop(); });
}

RevocationRefresher::~RevocationRefresher() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void RevocationRefresher::loop() {
    const auto every = std::chrono::seconds(std::clamp<long long>(options_.refresh_interval, 1, 300));
    log()->info("revocation: refreshing stored certificates' status every {} s (refresh-interval {} s)",
                every.count(), options_.refresh_interval);
    std::unique_lock lock(mutex_);
    while (!stop_) {
        lock.unlock();
        try {
            auto s = refresh_revocation(store_, options_, Fetch::IfStale, std::time(nullptr));
            if (s.revoked || s.unknown)
                log()->info("revocation: refresh: {} good, {} newly revoked, {} without fresh information", s.good,
                            s.revoked, s.unknown);
        } catch (const std::exception& e) {  // the store unreachable: try again next round
            log()->warn("revocation: refresh failed: {}", e.what());
        }
        lock.lock();
        wake_.wait_for(lock, every, [this] { return stop_; });
    }
}

}  // namespace sealpost
