// cert_store_files.hpp: the `files` store backend: a directory.
//   <address>.crt / <address>.json      the current certificate (PEM,
//                                        readable by `openssl x509`) and its
//                                        metadata (format in ARCHITECTURE.md)
//   .history/<address>/<sha256>.crt/.json every other certificate kept for
//                                        the address (superseded, revoked)
//   .webhook-batch-ids                   webhook batch ids (batch_log.hpp)
// Names starting with a dot are never addresses, so the layout of the
// current certificates is the one older versions wrote and read.
//
// Reads go through an in-memory index keyed by address; each lookup costs
// two stat() calls (the .crt and the history directory) to notice a change
// made by another process, and re-reads only then. Writes are atomic
// (atomic_file.hpp) and serialised across processes by flock() on the
// directory; every crash window reads as before or after the write, and
// recover() tidies what a crashed writer left. Never builds a path from an
// address that fails unsafe_file_name_reason() (Error(Input)). The
// constructor creates `dir` when missing (Error(Config) when it cannot).
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "batch_log.hpp"
#include "cert_store.hpp"
#include "invite_ledger_files.hpp"

namespace sealpost {

class AtomicFileGroup;

class FilesCertStore final : public CertStore {
public:
    explicit FilesCertStore(std::filesystem::path dir);
    ~FilesCertStore() override;
    FilesCertStore(const FilesCertStore&) = delete;
    FilesCertStore& operator=(const FilesCertStore&) = delete;

    const std::filesystem::path& dir() const { return dir_; }

    std::string describe() const override { return "files:" + dir_.string(); }
    StoredCertificatePtr get(std::string_view address) const override;
    std::vector<StoredCertificatePtr> history(std::string_view address) const override;
    PutResult put(std::string_view address, X509* cert, CertMetadata meta, bool durable = true) override;
    std::vector<PutResult> put_batch(std::vector<PutRequest> items, bool durable = true) override;
    std::vector<std::string> addresses() const override;
    bool forget(std::string_view address) override;
    bool mark_revoked(std::string_view address, const std::string& fingerprint, const std::string& evidence) override;
    std::filesystem::path cache_dir() const override { return dir_; }
    // Brings back to a committed state what writers that crashed in the
    // middle of put() left (see the commit protocol in the .cpp): restores
    // <address>.json from the history copy when a crash came between the
    // metadata and the certificate, removes metadata without a certificate,
    // history copies of the current certificate and temporaries of
    // certificates and metadata. Under the write lock; writers (collect,
    // serve) call it at start (open_configured_store). Readers need not:
    // every window already reads as the state before or after.
    struct Recovery {
        std::size_t temporaries = 0, orphans = 0, duplicates = 0, metadata_restored = 0;
        std::size_t total() const { return temporaries + orphans + duplicates + metadata_restored; }
    };
    Recovery recover();

    BatchClaim claim_batch(const std::string& id) override;
    void commit_batch(const std::string& id) override;
    void release_batch(const std::string& id) override;
    // The invitation ledger: .invite/ (invite_ledger_files.hpp).
    void record_wanted(const std::vector<InviteRecord>& w) override { invites_.record_wanted(w); }
    std::vector<InviteRecord> invitations() const override { return invites_.all(); }
    InviteClaim claim_invitation(std::string_view a, InviteReason r, std::time_t now, long long interval,
                                 long long max_per_day) override {
        return invites_.claim(a, r, now, interval, max_per_day);
    }
    void release_invitation(std::string_view a, std::time_t previous) override { invites_.release(a, previous); }

private:
    struct Stamp {
        bool exists = false;
        struct timespec mtime {};
        off_t size = 0;
        ino_t inode = 0;
        bool operator==(const Stamp& o) const;
    };
    struct Entry {
        StoredCertificatePtr current;
        std::vector<StoredCertificatePtr> others;  // latest notAfter first
        Stamp crt, hist;
    };
    static Stamp stamp(const std::filesystem::path& p);
    std::filesystem::path history_dir(const std::string& address) const;
    StoredCertificatePtr load(const std::filesystem::path& crt, const std::filesystem::path& json,
                              const std::string& address, CertStatus default_status) const;
    static std::optional<CertMetadata> read_metadata(const std::filesystem::path& json,
                                                     const std::string& fingerprint);
    Entry entry(const std::string& address) const;  // from the index, refreshed when the disk changed
    class WriteLock;
    void stage_history(AtomicFileGroup& group, const std::string& address, const StoredCertificate& sc);

    std::filesystem::path dir_;
    mutable std::shared_mutex index_mutex_;
    mutable std::map<std::string, Entry, std::less<>> index_;
    std::mutex write_mutex_;
    int lock_fd_ = -1;  // the directory, flock()ed around every write
    BatchLog batches_;
    InviteLedgerFile invites_{dir_ / ".invite"};
};

}  // namespace sealpost
