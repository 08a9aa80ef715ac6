// invite_ledger_files.hpp: the `files` backend's invitation ledger:
// `<store>/.invite/ledger.json` (one JSON object, address -> record),
// replaced whole through write_file_atomic under flock() on
// `<store>/.invite/lock`, so several processes on one host share it (one
// node: the files backend is one node's). Readers read the file as it is
// (a rename is atomic). Errors: Error(TempFail) when it cannot be written
// or locked, Error(Input) for an address that cannot be a name.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "invite_ledger.hpp"

namespace sealpost {

class InviteLedgerFile {
public:
    explicit InviteLedgerFile(std::filesystem::path dir) : dir_(std::move(dir)) {}

    void record_wanted(const std::vector<InviteRecord>& wanted);
    std::vector<InviteRecord> all() const;
    InviteClaim claim(std::string_view address, InviteReason reason, std::time_t now, long long interval,
                      long long max_per_day);
    void release(std::string_view address, std::time_t previous_invited_at);

private:
    using Map = std::map<std::string, InviteRecord>;
    Map load() const;
    void save(const Map& m);
    class Lock;

    std::filesystem::path dir_;  // <store>/.invite
    std::mutex mutex_;
};

}  // namespace sealpost
