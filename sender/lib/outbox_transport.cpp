// outbox_transport.cpp: one file per copy in a directory an MTA's pickup
// directory can read as is: envelope lines `X-Sender: <addr>` and one
// `X-Receiver: <addr>` per recipient (the PowerMTA / IIS pickup
// convention), then the message. Written atomically (a temporary in
// <outbox>/.tmp, where a pickup scanner never looks, then rename; stale
// temporaries of a crashed writer are removed when the outbox is opened);
// with durable=true the file is fsynced before the rename and the directory
// after, so "accepted" means it survives a crash. In batch mode (`send`) the
// directory is fsynced once, in finish_batch(), before the command reports
// success: each file is still whole or absent after a crash. Names sort in send order:
// <UTC time, ns>-<pid>-<sequence>.eml. An outbox we cannot create files in
// is Error(CantCreate) (exit 73) when the transport is made; a write that
// fails later for the same reason is too in batch mode (`send`), and a
// temporary failure in `serve` (the client retries once the operator fixed it).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>

#include "atomic_file.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "outbox_check.hpp"
#include "transport.hpp"

namespace sealpost {
namespace {

std::atomic<unsigned long long> g_sequence{0};

// Temporaries live in <outbox>/.tmp: a pickup scanner never sees one.
constexpr const char* kOutboxTmpDir = ".tmp";

// What crashed writers left in an outbox, removed once per process.
void remove_stale_once(const std::string& dir) {
    static std::mutex mutex;
    static std::set<std::string> done;
    std::lock_guard lock(mutex);
    if (!done.insert(dir).second) return;
    if (auto n = remove_stale_temporaries(dir, kOutboxTmpDir))
        log()->warn("outbox: removed {} temporar{} left by a crashed writer in {}", n, n == 1 ? "y" : "ies", dir);
}

class OutboxTransport final : public Transport {
public:
    OutboxTransport(std::string dir, bool durable, bool batch)
        : dir_(std::move(dir)), durable_(durable), batch_(batch) {
        if (auto reason = outbox_unwritable_reason(dir_, 0750)) fail(ErrorKind::CantCreate, *reason);
        remove_stale_once(dir_);
    }
    const char* name() const override { return "outbox"; }

    DeliveryResult deliver(const OutputCopy& copy) override {
        // The envelope lines, then the message as it is: written together
        // with writev, never joined into one buffer.
        std::string envelope = "X-Sender: <" + copy.mail_from + ">\r\n";
        for (const auto& r : copy.recipients) envelope += "X-Receiver: <" + r.address + ">\r\n";
        const std::string_view content[] = {envelope, copy.message};
        auto now = std::chrono::system_clock::now().time_since_epoch();
        char name[96];
        std::snprintf(name, sizeof name, "%020lld-%d-%08llu.eml",
                      static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()),
                      static_cast<int>(::getpid()), g_sequence.fetch_add(1));
        DeliveryResult result;
        try {
            write_file_atomic(dir_, name, content, durable_, 0640, /*sync_dir=*/!batch_, kOutboxTmpDir);
            unsynced_ = batch_ && durable_;
        } catch (const Error& e) {
            if (batch_) {
                if (auto reason = outbox_unwritable_reason(dir_, 0750))
                    fail(ErrorKind::CantCreate, std::string(e.what()) + ": " + *reason);
            }
            result.status = DeliveryResult::Status::TempFail;
            result.detail = e.what();
            return result;
        }
        result.detail = (std::filesystem::path(dir_) / name).string();
        for (const auto& r : copy.recipients) result.recipients.push_back({r.address, 0, "written", true});
        return result;
    }

    void finish_batch() override {
        if (!unsynced_) return;
        sync_directory(dir_);
        unsynced_ = false;
    }

private:
    std::string dir_;
    bool durable_;
    bool batch_;
    bool unsynced_ = false;
};

class StdoutTransport final : public Transport {
public:
    const char* name() const override { return "stdout"; }
    DeliveryResult deliver(const OutputCopy& copy) override {
        DeliveryResult result;
        result.detail = "standard output";
        if (std::fwrite(copy.message.data(), 1, copy.message.size(), stdout) != copy.message.size() ||
            std::fflush(stdout) != 0) {
            result.status = DeliveryResult::Status::TempFail;
            result.detail = "cannot write to standard output";
            return result;
        }
        for (const auto& r : copy.recipients) result.recipients.push_back({r.address, 0, "written", true});
        return result;
    }
};

}  // namespace

std::unique_ptr<Transport> make_outbox_transport(const std::string& dir, bool durable, bool batch) {
    return std::make_unique<OutboxTransport>(dir, durable, batch);
}

std::unique_ptr<Transport> make_stdout_transport() { return std::make_unique<StdoutTransport>(); }

}  // namespace sealpost
