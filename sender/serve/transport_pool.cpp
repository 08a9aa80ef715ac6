// transport_pool.cpp: the pool and its RAII lease.
#include "transport_pool.hpp"

#include <exception>

#include "log.hpp"

namespace sealpost {

TransportPool::TransportPool(TransportFactory factory, std::size_t size) : factory_(std::move(factory)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, size); ++i) idle_.push_back(factory_());
}

TransportPool::Lease::Lease(TransportPool& pool, std::unique_ptr<Transport> t)
    : pool_(pool), transport_(std::move(t)), exceptions_at_start_(std::uncaught_exceptions()) {}

TransportPool::Lease::~Lease() {
    pool_.give_back(std::move(transport_), broken_ || std::uncaught_exceptions() > exceptions_at_start_);
}

TransportPool::Lease TransportPool::acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty(); });
    auto t = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(t));
}

void TransportPool::give_back(std::unique_ptr<Transport> t, bool after_exception) {
    if (after_exception) {
        try {
            t = factory_();
        } catch (const std::exception& e) {
            log()->error("serve: cannot replace a transport after an exception ({}); reusing it", e.what());
        }
    }
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(t));
    }
    available_.notify_one();
}

std::size_t TransportPool::idle() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
}

const Transport* TransportPool::peek() const {
    std::lock_guard lock(mutex_);
    return idle_.empty() ? nullptr : idle_.front().get();
}

}  // namespace sealpost
