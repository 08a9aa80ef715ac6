// cert_store_postgres.hpp: the `postgres` store backend: several nodes, one
// store. Schema (created and versioned by init_schema(), version in
// sealpost_schema):
//   sealpost_certificates(address, fingerprint, status current|superseded|
//       revoked, not_after epoch, pem, metadata jsonb, stored_at),
//       primary key (address, fingerprint), at most one current per address
//   sealpost_webhook_batches(id primary key, claimed_at)
//   sealpost_invitations(address primary key, reason, wanted_at,
//       wanted_count, invited_at, invite_count)   (version 2)
//
// Lookups go through an in-memory index (address -> every certificate kept,
// or none), filled on first use, so a message costs no round trip. A put is
// one transaction under a per-address advisory lock and sends
// NOTIFY sealpost_store '<address>'; a listener thread with a connection of
// its own receives it (from every node) and drops that address from the
// index. Batch ids: INSERT ... ON CONFLICT DO NOTHING, the atomic
// test-and-set across nodes.
//
// Failures: the constructor throws Error(TempFail) with the connection error
// when the database cannot be reached (exit 75), Error(Config) when it has
// no schema and create_schema is off. While running, a lost connection is
// Error(TempFail) from every operation -- lookups too while the listener is
// disconnected, since the index may then be stale -- and connections are
// made again on the next use (the listener retries every second).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "cert_store.hpp"
#include "pg_connection.hpp"

namespace sealpost {

struct PostgresStoreOptions {
    std::string conninfo;        // libpq string or URI; empty: PG* environment variables
    bool create_schema = false;  // create it when missing (else Error(Config))
    std::filesystem::path cache_dir;  // this node's revocation cache ([store] cache-dir)
};

class PostgresCertStore final : public CertStore {
public:
    static constexpr int kSchemaVersion = 2;  // 2: sealpost_invitations

    explicit PostgresCertStore(PostgresStoreOptions options);
    ~PostgresCertStore() override;

    // Creates or upgrades the schema; idempotent. Returns the version it found (0: none).
    static int init_schema(PgConnection& c);

    std::string describe() const override { return "postgres:" + where_; }
    StoredCertificatePtr get(std::string_view address) const override;
    std::vector<StoredCertificatePtr> history(std::string_view address) const override;
    PutResult put(std::string_view address, X509* cert, CertMetadata meta, bool durable = true) override;
    std::vector<PutResult> put_batch(std::vector<PutRequest> items, bool durable = true) override;
    std::vector<std::string> addresses() const override;
    bool forget(std::string_view address) override;
    bool mark_revoked(std::string_view address, const std::string& fingerprint, const std::string& evidence) override;
    std::filesystem::path cache_dir() const override { return options_.cache_dir; }
    BatchClaim claim_batch(const std::string& id) override;
    void commit_batch(const std::string& id) override;
    void release_batch(const std::string& id) override;
    void record_wanted(const std::vector<InviteRecord>& wanted) override;
    std::vector<InviteRecord> invitations() const override;
    InviteClaim claim_invitation(std::string_view address, InviteReason reason, std::time_t now, long long interval,
                                 long long max_per_day) override;
    void release_invitation(std::string_view address, std::time_t previous_invited_at) override;

private:
    static PutResult put_in(PgConnection& c, const std::string& address, X509* cert, CertMetadata meta);
    class Lease;  // a pooled connection, returned on destruction unless broken
    Lease lease() const;
    void invalidate(const std::string& address) const;
    void invalidate_all() const;
    void listen_loop();
    std::unique_ptr<PgConnection> connect_listener() const;

    PostgresStoreOptions options_;
    std::string where_;

    mutable std::mutex pool_mutex_;
    mutable std::vector<std::unique_ptr<PgConnection>> idle_;

    mutable std::shared_mutex index_mutex_;
    mutable std::map<std::string, std::vector<StoredCertificatePtr>, std::less<>> index_;
    mutable std::atomic<unsigned long> generation_{0};

    std::unique_ptr<PgConnection> listener_;
    std::atomic<bool> listening_{false};
    std::atomic<bool> stop_{false};
    int wake_fd_ = -1;
    std::thread listener_thread_;
};

}  // namespace sealpost
