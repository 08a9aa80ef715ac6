// batch_log.cpp: bounded, persisted set of batch ids; claims in memory.
#include "batch_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "atomic_file.hpp"
#include "log.hpp"

namespace sealpost {

BatchLog::BatchLog(std::filesystem::path file, std::size_t capacity) : file_(std::move(file)), capacity_(capacity) {
    auto text = read_file(file_, 64 * 1024 * 1024);
    if (!text) return;
    std::size_t start = 0;
    while (start < text->size()) {
        auto nl = text->find('\n', start);
        if (nl == std::string::npos) break;  // a torn last line is ignored
        std::string id = text->substr(start, nl - start);
        start = nl + 1;
        ++lines_on_disk_;
        if (valid_id(id) && ids_.insert(id).second) order_.push_back(id);
    }
    while (order_.size() > capacity_) {
        ids_.erase(order_.front());
        order_.pop_front();
    }
    // A crash mid-append left a line without its newline: rewrite the file
    // without it, or the next append would be glued to it and that id
    // would be lost at the next start.
    if (!text->empty() && text->back() != '\n') compact();
}

bool BatchLog::valid_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

BatchLog::Claim BatchLog::claim(const std::string& id) {
    std::lock_guard lock(mutex_);
    if (ids_.count(id)) return Claim::Done;
    if (!in_flight_.insert(id).second) return Claim::Busy;
    return Claim::Mine;
}

void BatchLog::commit(const std::string& id) {
    std::lock_guard lock(mutex_);
    in_flight_.erase(id);
    if (!ids_.insert(id).second) return;
    order_.push_back(id);
    while (order_.size() > capacity_) {
        ids_.erase(order_.front());
        order_.pop_front();
    }
    append(id);
    if (lines_on_disk_ > 2 * capacity_) compact();
}

void BatchLog::release(const std::string& id) {
    std::lock_guard lock(mutex_);
    in_flight_.erase(id);
    if (!ids_.erase(id)) return;
    order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
    compact();
}

std::size_t BatchLog::size() const {
    std::lock_guard lock(mutex_);
    return order_.size();
}

void BatchLog::append(const std::string& id) {
    int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        log()->warn("webhook: cannot record batch id in {}: {}", file_.string(), std::strerror(errno));
        return;
    }
    std::string line = id + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) log()->warn("webhook: cannot record batch id in {}", file_.string());
    ++lines_on_disk_;
}

void BatchLog::compact() {
    std::string text;
    for (const auto& id : order_) text += id + "\n";
    try {
        write_file_atomic(file_.parent_path(), file_.filename().string(), text, true, 0640);
        lines_on_disk_ = order_.size();
    } catch (const std::exception& e) {
        log()->warn("webhook: cannot compact {}: {}", file_.string(), e.what());
    }
}

}  // namespace sealpost
