// wanted_recorder.cpp: batched writes of "wanted" to the invitation ledger.
#include "wanted_recorder.hpp"

#include "errors.hpp"
#include "log.hpp"

namespace sealpost {

InviteReason invite_reason_for(std::string_view why) {
    if (why.find("revoked") != std::string_view::npos) return InviteReason::Revoked;
    if (why.find("expired") != std::string_view::npos) return InviteReason::Expiring;
    return InviteReason::NoCertificate;
}

WantedRecorder::WantedRecorder(CertStore& store, std::chrono::seconds every, std::size_t batch)
    : store_(store), every_(every), batch_(batch), last_flush_(std::chrono::steady_clock::now()) {}

WantedRecorder::~WantedRecorder() {
    if (flush()) return;
    std::lock_guard lock(mutex_);
    std::string names;
    for (const auto& [a, r] : queue_) names += (names.empty() ? "" : ", ") + a;
    log()->error("invite: {} wanted address(es) could not be recorded in the store and are lost: {}", queue_.size(),
                 printable(names, 2000));
}

void WantedRecorder::add(const std::string& address, InviteReason reason, std::time_t now) {
    std::unique_lock lock(mutex_);
    if (auto it = recorded_.find(address); it != recorded_.end() && now - it->second < 3600 && !queue_.count(address))
        return;
    auto& r = queue_[address];
    r.address = address;
    r.reason = reason;
    r.wanted_at = now;
    if (queue_.size() >= batch_ || std::chrono::steady_clock::now() - last_flush_ >= every_) flush_locked(lock);
}

bool WantedRecorder::flush() {
    std::unique_lock lock(mutex_);
    return flush_locked(lock);
}

std::size_t WantedRecorder::pending() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

bool WantedRecorder::flush_locked(std::unique_lock<std::mutex>& lock) {
    last_flush_ = std::chrono::steady_clock::now();
    if (queue_.empty()) return true;
    std::vector<InviteRecord> batch;
    for (const auto& [a, r] : queue_) batch.push_back(r);
    (void)lock;  // the write happens under the lock: adds wait, none is lost between copy and clear
    try {
        store_.record_wanted(batch);
    } catch (const std::exception& e) {
        log()->error("invite: recording {} wanted address(es) in the store failed (kept for the next try): {}",
                     batch.size(), e.what());
        return false;
    }
    for (const auto& r : batch) {
        recorded_[r.address] = r.wanted_at;
        queue_.erase(r.address);
    }
    if (recorded_.size() > 100000) recorded_.clear();
    log()->debug("invite: {} wanted address(es) recorded", batch.size());
    return true;
}

}  // namespace sealpost
