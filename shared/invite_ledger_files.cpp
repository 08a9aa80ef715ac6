// invite_ledger_files.cpp: the ledger as one JSON file under flock().
#include "invite_ledger_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "address.hpp"
#include "atomic_file.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {

const char* to_string(InviteReason r) {
    switch (r) {
        case InviteReason::NoCertificate: return "no-certificate";
        case InviteReason::Expiring: return "expiring";
        case InviteReason::Revoked: return "revoked";
    }
    return "no-certificate";
}

InviteReason invite_reason_from_string(std::string_view text) {
    if (text == "expiring") return InviteReason::Expiring;
    if (text == "revoked") return InviteReason::Revoked;
    return InviteReason::NoCertificate;
}

namespace {

constexpr const char* kFile = "ledger.json";

std::string checked_address(std::string_view in) {
    std::string address = normalise_address(in);
    if (auto why = unsafe_file_name_reason(address))
        fail(ErrorKind::Input, "address '" + printable(address, 80) + "' cannot be recorded: " + *why);
    return address;
}

}  // namespace

// The in-process mutex, then flock() on .invite/lock (processes).
class InviteLedgerFile::Lock {
public:
    explicit Lock(InviteLedgerFile& l) : guard_(l.mutex_) {
        ensure_directory(l.dir_, 0755);
        fd_ = ::open((l.dir_ / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) fail(ErrorKind::TempFail, "invite ledger: " + (l.dir_ / "lock").string() + ": " + std::strerror(errno));
        while (::flock(fd_, LOCK_EX) != 0)
            if (errno != EINTR) {
                ::close(fd_);
                fail(ErrorKind::TempFail, std::string("invite ledger: flock: ") + std::strerror(errno));
            }
    }
    ~Lock() {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

private:
    std::lock_guard<std::mutex> guard_;
    int fd_ = -1;
};

InviteLedgerFile::Map InviteLedgerFile::load() const {
    Map m;
    auto text = read_file(dir_ / kFile);
    if (!text) return m;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(*text);
    } catch (const std::exception& e) {
        fail(ErrorKind::TempFail, "invite ledger: " + (dir_ / kFile).string() + " is unreadable: " + e.what());
    }
    if (!j.is_object() || !j.contains("entries") || !j["entries"].is_object()) return m;
    for (const auto& [address, e] : j["entries"].items()) {
        InviteRecord r;
        r.address = address;
        r.reason = invite_reason_from_string(e.value("reason", std::string("no-certificate")));
        r.wanted_at = e.value("wanted_at", 0LL);
        r.wanted_count = e.value("wanted_count", 0LL);
        r.invited_at = e.value("invited_at", 0LL);
        r.invite_count = e.value("invite_count", 0LL);
        m[address] = r;
    }
    return m;
}

void InviteLedgerFile::save(const Map& m) {
    nlohmann::json entries = nlohmann::json::object();
    for (const auto& [address, r] : m)
        entries[address] = {{"reason", to_string(r.reason)},        {"wanted_at", static_cast<long long>(r.wanted_at)},
                            {"wanted_count", r.wanted_count},        {"invited_at", static_cast<long long>(r.invited_at)},
                            {"invite_count", r.invite_count}};
    nlohmann::json j = {{"version", 1}, {"entries", entries}};
    write_file_atomic(dir_, kFile, j.dump(1) + "\n");
}

void InviteLedgerFile::record_wanted(const std::vector<InviteRecord>& wanted) {
    if (wanted.empty()) return;
    std::vector<std::string> addresses;
    for (const auto& w : wanted) addresses.push_back(checked_address(w.address));
    Lock lock(*this);
    Map m = load();
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        auto& r = m[addresses[i]];
        r.address = addresses[i];
        r.reason = wanted[i].reason;
        r.wanted_at = std::max(r.wanted_at, wanted[i].wanted_at);
        r.wanted_count++;
    }
    save(m);
}

std::vector<InviteRecord> InviteLedgerFile::all() const {
    std::vector<InviteRecord> out;
    for (auto& [a, r] : load()) out.push_back(r);
    return out;
}

InviteClaim InviteLedgerFile::claim(std::string_view address_in, InviteReason reason, std::time_t now,
                                    long long interval, long long max_per_day) {
    std::string address = checked_address(address_in);
    Lock lock(*this);
    Map m = load();
    InviteClaim c;
    auto it = m.find(address);
    if (it != m.end()) {
        c.previous_invited_at = it->second.invited_at;
        if (it->second.invited_at != 0 && now - it->second.invited_at < interval) {
            c.outcome = InviteClaimOutcome::TooSoon;
            return c;
        }
    }
    if (max_per_day > 0) {
        long long today = 0;
        for (const auto& [a, r] : m)
            if (r.invited_at != 0 && r.invited_at > now - 86400) today++;
        if (today >= max_per_day) {
            c.outcome = InviteClaimOutcome::DailyLimit;
            return c;
        }
    }
    auto& r = m[address];
    r.address = address;
    r.reason = reason;
    if (r.wanted_at == 0) r.wanted_at = now;
    r.invited_at = now;
    r.invite_count++;
    save(m);
    c.outcome = InviteClaimOutcome::Claimed;
    return c;
}

void InviteLedgerFile::release(std::string_view address_in, std::time_t previous_invited_at) {
    std::string address = checked_address(address_in);
    Lock lock(*this);
    Map m = load();
    auto it = m.find(address);
    if (it == m.end()) return;
    it->second.invited_at = previous_invited_at;
    if (it->second.invite_count > 0) it->second.invite_count--;
    save(m);
}

}  // namespace sealpost
