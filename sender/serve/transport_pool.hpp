// transport_pool.hpp: the transports `serve` relays through, one in use per
// worker at a time. acquire() blocks until one is free and returns a Lease
// that puts the transport back in its destructor, also when deliver()
// throws, so no exception can shrink the pool (before, a throw lost a
// transport and, after enough of them, every session waited forever). A
// transport that was leased while an exception unwound is replaced by a
// fresh one from the factory (its connection state is unknown); if the
// factory fails, the old one goes back and the failure is logged.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "transport.hpp"

namespace sealpost {

using TransportFactory = std::function<std::unique_ptr<Transport>()>;

class TransportPool {
public:
    // `size` transports from `factory` (at least one); throws what the factory throws.
    TransportPool(TransportFactory factory, std::size_t size);

    class Lease {
    public:
        Lease(Lease&&) = delete;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        Transport& operator*() const { return *transport_; }
        Transport* operator->() const { return transport_.get(); }
        // The transport's state is unknown (e.g. deliver() threw and the
        // caller caught it): the pool replaces it instead of reusing it.
        void mark_broken() { broken_ = true; }

    private:
        friend class TransportPool;
        Lease(TransportPool& pool, std::unique_ptr<Transport> t);
        TransportPool& pool_;
        std::unique_ptr<Transport> transport_;
        int exceptions_at_start_;
        bool broken_ = false;
    };

    // Blocks until a transport is free. Guaranteed copy elision: use as
    // `auto lease = pool.acquire();`.
    Lease acquire();
    std::size_t idle() const;
    // A transport (for checks such as its name); null when all are leased.
    const Transport* peek() const;

private:
    void give_back(std::unique_ptr<Transport> t, bool after_exception);

    TransportFactory factory_;
    mutable std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Transport>> idle_;
};

}  // namespace sealpost
