// batch_log.hpp: the files store's record of the X-MessageSystems-Batch-ID
// values already processed (cert_store_files.hpp), so
// a batch the provider delivers again (after a timeout, say) is not
// processed twice. An id is claimed (in memory only) while its batch is
// processed and committed (written and fsynced) only after every message
// of the batch has its verdict durably written: a crash in the middle
// leaves the id unrecorded, so the redelivery processes the batch again
// (already stored certificates are "already current"). Bounded (the newest `capacity` ids), persisted as a
// dot-file in the store directory (one id per line, appended and fsynced,
// compacted atomically when it grows to twice the capacity), thread-safe.
// Ids that are empty, longer than 128 bytes or not printable ASCII are
// never recorded (the caller treats them as absent).
#pragma once

#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace sealpost {

// The answer to "may I process this batch?" (CertStore::claim_batch).
enum class BatchClaim {
    Done,  // committed before: do not process again
    Busy,  // being processed by another request right now
    Mine,  // claimed for the caller: commit or release it
};

class BatchLog {
public:
    BatchLog(std::filesystem::path file, std::size_t capacity = 10000);

    static bool valid_id(std::string_view id);
    using Claim = BatchClaim;
    Claim claim(const std::string& id);
    // The batch is fully processed: record the id durably.
    void commit(const std::string& id);
    // Forgets a claim (processing failed), so a redelivery is processed.
    void release(const std::string& id);
    std::size_t size() const;

private:
    void append(const std::string& id);
    void compact();

    std::filesystem::path file_;
    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<std::string> order_;
    std::unordered_set<std::string> ids_;
    std::unordered_set<std::string> in_flight_;
    std::size_t lines_on_disk_ = 0;
};

}  // namespace sealpost
