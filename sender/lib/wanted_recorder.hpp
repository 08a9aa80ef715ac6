// wanted_recorder.hpp: records, for the invitation ledger (issue 13), the
// recipients that got a copy not encrypted only because no usable
// certificate was known, without a store write per message: add() only
// queues (an address already recorded in the last hour is skipped), and
// the queue is written in one CertStore::record_wanted call when it holds
// `batch` addresses or `every` has passed since the last write (on the
// thread that adds), at flush(), and at destruction. A write that fails is
// logged as an error and kept for the next one; what is still queued at
// destruction after a failure is named in the log, never dropped silently.
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cert_store.hpp"

namespace sealpost {

// The ledger's reason for a lookup's reason text ("certificate revoked",
// "certificate expired ...", else no-certificate).
InviteReason invite_reason_for(std::string_view lookup_reason);

class WantedRecorder {
public:
    explicit WantedRecorder(CertStore& store, std::chrono::seconds every = std::chrono::seconds(5),
                            std::size_t batch = 256);
    ~WantedRecorder();
    WantedRecorder(const WantedRecorder&) = delete;
    WantedRecorder& operator=(const WantedRecorder&) = delete;

    void add(const std::string& address, InviteReason reason, std::time_t now);
    // Writes what is queued; false (logged) when the store refused.
    bool flush();
    std::size_t pending() const;

private:
    bool flush_locked(std::unique_lock<std::mutex>& lock);

    CertStore& store_;
    std::chrono::seconds every_;
    std::size_t batch_;
    mutable std::mutex mutex_;
    std::map<std::string, InviteRecord> queue_;
    std::map<std::string, std::time_t> recorded_;  // address -> when last written
    std::chrono::steady_clock::time_point last_flush_;
};

}  // namespace sealpost
