// cert_store.hpp: the certificate store's interface: what the program asks
// of it, whatever keeps the certificates. Two backends implement it:
// `files` (cert_store_files.hpp: a directory, `<address>.crt` + `.json`) and
// `postgres` (cert_store_postgres.hpp: tables shared by several nodes);
// store_location.hpp opens the one the configuration names. The host and
// every plugin share one CertStore object.
//
// Every certificate collected for an address is kept with its metadata and
// a status (current, superseded, revoked; expired is reported for one past
// its notAfter). The one chosen for encryption is the best one valid now:
// among those that can encrypt at `now` and are not revoked, the one that
// expires last, so one expired or unusable certificate never blocks
// encryption when another valid one exists.
//
// Failures: Error(Input) for an address that cannot be a name;
// Error(TempFail) when the backend cannot be reached (postgres: connection
// lost) -- never "no certificate", which would send in clear. Thread-safe.
#pragma once

#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch_log.hpp"
#include "cert_metadata.hpp"
#include "handles.hpp"
#include "invite_ledger.hpp"

namespace sealpost {

struct StoredCertificate {
    std::string address;
    X509Ptr cert;
    std::string fingerprint;  // SHA-256, hex
    CertMetadata meta;        // meta.recorded = false when no matching metadata; meta.status as kept
    bool current = false;     // in the current place (meta.status Current, or Revoked once marked there)
};

using StoredCertificatePtr = std::shared_ptr<const StoredCertificate>;

// KnownRevoked: this certificate is kept for the address and marked revoked: nothing changes.
enum class PutOutcome { Stored, Replaced, AlreadyCurrent, OlderIgnored, KnownRevoked };
const char* to_string(PutOutcome o);

struct PutResult {
    PutOutcome outcome;
    std::string old_fingerprint;  // set for Replaced and OlderIgnored
};

// One certificate of a put_batch().
struct PutRequest {
    std::string address;
    X509Ptr cert;
    CertMetadata meta;
};

class CertStore {
public:
    virtual ~CertStore() = default;

    // "files:/var/lib/sealpost/certs", "postgres:dbname=sealpost host=..." (no password).
    virtual std::string describe() const = 0;

    // The current certificate for `address` (normalised), or nullptr.
    virtual StoredCertificatePtr get(std::string_view address) const = 0;

    // Every certificate kept for `address`: the current one first, then the
    // others, latest notAfter first; meta.status as kept (never Expired).
    virtual std::vector<StoredCertificatePtr> history(std::string_view address) const = 0;

    // A certificate we may encrypt to at `now` (see above), or nullptr and the
    // reason ("no certificate collected", "certificate expired 2025-...",
    // "certificate cannot encrypt: ..."), the current certificate's reason.
    struct Usable {
        StoredCertificatePtr cert;
        std::string reason;
    };
    virtual Usable find_for_encryption(std::string_view address, std::time_t now) const;

    // Keeps `cert` for `address`. It becomes current unless it is current
    // already (AlreadyCurrent) or the current one expires later (OlderIgnored:
    // a replayed old mail; it is still kept, as superseded). The certificate
    // it replaces stays, superseded. meta.address, meta.fingerprint and
    // meta.status are set here. One atomic step.
    virtual PutResult put(std::string_view address, X509* cert, CertMetadata meta, bool durable = true) = 0;

    // The puts of `items`, in order, with exactly put()'s rules (a later item
    // sees the earlier ones: one address twice is current then replaced),
    // made durable as one group (group commit): when it returns every
    // certificate of the batch is complete and durable; a crash before that
    // leaves each address as it was or as some prefix of the batch left it,
    // never a torn file, never a current certificate without its
    // predecessor kept. One result per item. Throws as put() does (nothing
    // of the batch is promised then: the caller answers as for a failed
    // put). files: one fsync per file, one per directory and batch instead
    // of one per file; postgres: one transaction. The default is put() per item.
    virtual std::vector<PutResult> put_batch(std::vector<PutRequest> items, bool durable = true);

    // Addresses with a current certificate, sorted.
    virtual std::vector<std::string> addresses() const = 0;

    // Removes every certificate kept for `address`; false when there was none.
    virtual bool forget(std::string_view address) = 0;

    // Marks the certificate `fingerprint` kept for `address` revoked, on
    // every node (meta.status, with `evidence` in meta.revocation): it stays
    // where it is (current or not) but is never chosen for encryption again,
    // and the next certificate collected for the address replaces it
    // whatever its expiry. false when no such certificate is kept.
    virtual bool mark_revoked(std::string_view address, const std::string& fingerprint,
                              const std::string& evidence) = 0;

    // Where this node caches revocation answers (CRLs, OCSP responses):
    // the store directory for `files`, [store] cache-dir for `postgres`.
    virtual std::filesystem::path cache_dir() const = 0;

    // Webhook batch ids (atomic, across nodes for postgres): claim a batch
    // before processing it (Done: processed before; Busy: being processed
    // elsewhere; Mine: process it), commit it only after every message of it
    // has its verdict durably written (a crash in between leaves it
    // processable: a redelivery is processed, not skipped), or release it
    // when processing failed.
    virtual BatchClaim claim_batch(const std::string& id) = 0;
    virtual void commit_batch(const std::string& id) = 0;
    virtual void release_batch(const std::string& id) = 0;

    // The invitation ledger (invite_ledger.hpp), shared like the store.
    // record_wanted: upsert each (address, reason, wanted_at), counting one
    // more sighting. claim_invitation: one atomic step across processes and
    // nodes: refused when the address was invited less than `interval`
    // seconds before `now` (TooSoon) or when `max_per_day` (> 0) invitations
    // went out in the 24 hours before `now` (DailyLimit); otherwise recorded
    // as invited now (the row is made when missing). release_invitation
    // undoes a claim whose mail could not be sent.
    virtual void record_wanted(const std::vector<InviteRecord>& wanted) = 0;
    virtual std::vector<InviteRecord> invitations() const = 0;
    virtual InviteClaim claim_invitation(std::string_view address, InviteReason reason, std::time_t now,
                                         long long interval, long long max_per_day) = 0;
    virtual void release_invitation(std::string_view address, std::time_t previous_invited_at) = 0;

    // Ids the webhook records at all: 1..128 printable ASCII, no space.
    static bool valid_batch_id(std::string_view id);
};

// The choice for encryption among `candidates` (history() order).
CertStore::Usable choose_for_encryption(const std::vector<StoredCertificatePtr>& candidates, std::time_t now);

// The status to show for a kept certificate at `now`: Expired for a current
// or superseded one past its notAfter, else its kept status.
CertStatus status_at(const StoredCertificate& sc, std::time_t now);

}  // namespace sealpost
