// batch_id_file.hpp: the files backend's webhook batch ids: a bounded set
// (the newest `capacity` ids) persisted as a dot-file in the store directory
// (`.webhook-batch-ids`, one id per line, appended and fsynced, compacted
// atomically when it grows to twice the capacity). Same format as the
// collector's former BatchLog. Thread-safe within one process; a failed
// append is logged (the id is still held in memory), never thrown.
#pragma once

#include <cstddef>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_set>

namespace sealpost {

class BatchIdFile {
public:
    explicit BatchIdFile(std::filesystem::path file, std::size_t capacity = 10000);

    // True when `id` was recorded before; records it otherwise.
    bool seen_or_claim(const std::string& id);
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
    std::size_t lines_on_disk_ = 0;
};

}  // namespace sealpost
