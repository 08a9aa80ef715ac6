// log_throttle.hpp: at most one log line per interval for an event that can
// repeat thousands of times a second (accept failing with EMFILE, clients
// refused over a connection cap), with the count of the events in between,
// so a flood can neither fill the disk nor hide. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>

namespace sealpost {

class LogThrottle {
public:
    explicit LogThrottle(std::chrono::steady_clock::duration interval) : interval_(interval) {}

    // Counts one event. True when a line may be written now; `events` is
    // then the number of events since the last line (this one included).
    bool allow(std::size_t& events) {
        std::lock_guard lock(mutex_);
        ++pending_;
        auto now = std::chrono::steady_clock::now();
        if (written_ && now - last_ < interval_) return false;
        written_ = true;
        last_ = now;
        events = pending_;
        pending_ = 0;
        return true;
    }

private:
    std::chrono::steady_clock::duration interval_;
    std::mutex mutex_;
    std::chrono::steady_clock::time_point last_{};
    bool written_ = false;
    std::size_t pending_ = 0;
};

}  // namespace sealpost
