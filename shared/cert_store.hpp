// cert_store.hpp: the one certificate store: recipients' certificates as
// `<address>.crt` (PEM, readable by `openssl x509`) with `<address>.json`
// beside it (capabilities and the evidence it was collected on; format in
// ARCHITECTURE.md). The host and every plugin share one CertStore object.
//
// Reads go through an in-memory index keyed by address; each lookup costs
// one stat() to notice a file another process replaced, and re-reads only
// then. Writes are atomic (atomic_file.hpp) and serialised in-process.
// Thread-safe. Never builds a path from an address that fails
// unsafe_file_name_reason().
#pragma once

#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cert_metadata.hpp"
#include "handles.hpp"

namespace sealpost {

struct StoredCertificate {
    std::string address;
    X509Ptr cert;
    std::string fingerprint;  // SHA-256, hex
    CertMetadata meta;        // meta.recorded = false when no matching .json beside the .crt
};

using StoredCertificatePtr = std::shared_ptr<const StoredCertificate>;

enum class PutOutcome { Stored, Replaced, AlreadyCurrent, OlderIgnored };
const char* to_string(PutOutcome o);

struct PutResult {
    PutOutcome outcome;
    std::string old_fingerprint;  // set for Replaced and OlderIgnored
};

class CertStore {
public:
    // Creates `dir` when missing. Reads nothing yet: entries load on first use.
    explicit CertStore(std::filesystem::path dir);

    const std::filesystem::path& dir() const { return dir_; }

    // Whatever is stored for `address` (normalised), or nullptr. Throws
    // Error(Input) for an address that cannot be a file name.
    StoredCertificatePtr get(std::string_view address) const;

    // A certificate we may encrypt to at `now`, or nullptr and the reason
    // ("no certificate collected", "expired 2025-...", "cannot encrypt: ...").
    struct Usable {
        StoredCertificatePtr cert;
        std::string reason;
    };
    Usable find_for_encryption(std::string_view address, std::time_t now) const;

    // Stores `cert` for `address` unless the same one is there (AlreadyCurrent)
    // or the stored one expires later (OlderIgnored: a replayed old mail).
    // meta.address and meta.fingerprint are set here.
    PutResult put(std::string_view address, X509* cert, CertMetadata meta, bool durable = true);

    // Forgets `address`: removes the .crt (the commit point: readers see
    // nothing from here on), then the .json, then fsyncs the directory.
    // Returns the fingerprint removed, or nullopt when nothing was stored.
    // Throws Error(Input) for an address that cannot be a file name and
    // Error(CantCreate) when a file cannot be removed.
    std::optional<std::string> forget(std::string_view address);

    // Addresses with a .crt file, sorted (reads the directory).
    std::vector<std::string> addresses() const;

private:
    struct Entry {
        StoredCertificatePtr value;
        struct timespec mtime {};
        off_t size = 0;
        ino_t inode = 0;
    };
    StoredCertificatePtr load(const std::string& address) const;

    std::filesystem::path dir_;
    mutable std::shared_mutex index_mutex_;
    mutable std::map<std::string, Entry, std::less<>> index_;
    std::mutex write_mutex_;
};

}  // namespace sealpost
