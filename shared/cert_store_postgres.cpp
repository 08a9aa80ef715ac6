// cert_store_postgres.cpp: schema, pooled connections with prepared
// statements, the put transaction, the index and its LISTEN thread.
#include "cert_store_postgres.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "address.hpp"
#include "cert_info.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {
namespace {

constexpr const char* kChannel = "sealpost_store";
constexpr std::size_t kMaxIdle = 8;
constexpr std::size_t kMaxIndexed = 200000;  // the index is dropped whole beyond this (it refills on use)

const char* const kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS sealpost_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS sealpost_certificates (
    address     text        NOT NULL,
    fingerprint text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('current', 'superseded', 'revoked')),
    not_after   bigint      NOT NULL,
    pem         text        NOT NULL,
    metadata    jsonb       NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (address, fingerprint)
);
CREATE UNIQUE INDEX IF NOT EXISTS sealpost_certificates_one_current
    ON sealpost_certificates (address) WHERE status = 'current';
CREATE TABLE IF NOT EXISTS sealpost_webhook_batches (
    id         text        PRIMARY KEY,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    done       boolean     NOT NULL DEFAULT false
);
)sql";

// Version 2: the invitation ledger (invite_ledger.hpp).
const char* const kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS sealpost_invitations (
    address      text   PRIMARY KEY,
    reason       text   NOT NULL CHECK (reason IN ('no-certificate', 'expiring', 'revoked')),
    wanted_at    bigint NOT NULL DEFAULT 0,
    wanted_count bigint NOT NULL DEFAULT 0,
    invited_at   bigint NOT NULL DEFAULT 0,
    invite_count bigint NOT NULL DEFAULT 0
);
)sql";

void prepare_invite_statements(PgConnection& c) {
    c.prepare("invite_lock", "SELECT pg_advisory_xact_lock(hashtext('sealpost:invitations'))");
    c.prepare("invite_wanted",
              "INSERT INTO sealpost_invitations AS i (address, reason, wanted_at, wanted_count) VALUES ($1, $2, $3, 1) "
              "ON CONFLICT (address) DO UPDATE SET reason = EXCLUDED.reason, "
              "wanted_at = greatest(i.wanted_at, EXCLUDED.wanted_at), wanted_count = i.wanted_count + 1");
    c.prepare("invite_all",
              "SELECT address, reason, wanted_at, wanted_count, invited_at, invite_count FROM sealpost_invitations "
              "ORDER BY address COLLATE \"C\"");
    c.prepare("invite_of", "SELECT invited_at FROM sealpost_invitations WHERE address = $1");
    c.prepare("invite_today", "SELECT count(*) FROM sealpost_invitations WHERE invited_at <> 0 AND invited_at > $1");
    c.prepare("invite_claim",
              "INSERT INTO sealpost_invitations AS i (address, reason, wanted_at, invited_at, invite_count) "
              "VALUES ($1, $2, $3, $3, 1) ON CONFLICT (address) DO UPDATE SET reason = EXCLUDED.reason, "
              "invited_at = EXCLUDED.invited_at, invite_count = i.invite_count + 1, "
              "wanted_at = CASE WHEN i.wanted_at = 0 THEN EXCLUDED.wanted_at ELSE i.wanted_at END");
    c.prepare("invite_release",
              "UPDATE sealpost_invitations SET invited_at = $2, invite_count = greatest(invite_count - 1, 0) "
              "WHERE address = $1");
}

void prepare_statements(PgConnection& c) {
    prepare_invite_statements(c);
    c.prepare("lock_address", "SELECT pg_advisory_xact_lock(hashtext('sealpost:' || $1))");
    c.prepare("current_of",
              "SELECT fingerprint, not_after, coalesce(metadata->>'status', '') = 'revoked' "
              "FROM sealpost_certificates WHERE address = $1 AND status = 'current'");
    c.prepare("known_revoked",
              "SELECT 1 FROM sealpost_certificates WHERE address = $1 AND fingerprint = $2 "
              "AND metadata->>'status' = 'revoked'");
    c.prepare("supersede",
              "UPDATE sealpost_certificates SET status = 'superseded' WHERE address = $1 AND status = 'current'");
    c.prepare("upsert",
              "INSERT INTO sealpost_certificates (address, fingerprint, status, not_after, pem, metadata) "
              "VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (address, fingerprint) DO UPDATE SET "
              "status = CASE WHEN sealpost_certificates.status = 'revoked' THEN 'revoked' ELSE EXCLUDED.status END, "
              "metadata = CASE WHEN sealpost_certificates.metadata->>'status' = 'revoked' "
              "THEN sealpost_certificates.metadata ELSE EXCLUDED.metadata END");
    c.prepare("notify", "SELECT pg_notify('sealpost_store', $1)");
    c.prepare("history",
              "SELECT fingerprint, status, pem, metadata::text FROM sealpost_certificates WHERE address = $1 "
              "ORDER BY (status = 'current') DESC, not_after DESC, fingerprint");
    c.prepare("addresses", "SELECT address FROM sealpost_certificates WHERE status = 'current' ORDER BY address COLLATE \"C\"");
    // Revoked is kept in the metadata: the row keeps its place (current or
    // superseded), so the address keeps its current row until replaced.
    c.prepare("mark_revoked",
              "UPDATE sealpost_certificates SET metadata = metadata || jsonb_build_object('status', 'revoked', "
              "'revocation', $3::text) WHERE address = $1 AND fingerprint = $2");
    c.prepare("forget", "DELETE FROM sealpost_certificates WHERE address = $1");
    // A claim not committed within 10 minutes (its node crashed) is taken over.
    c.prepare("claim_batch",
              "INSERT INTO sealpost_webhook_batches AS b (id) VALUES ($1) ON CONFLICT (id) DO UPDATE "
              "SET claimed_at = now() WHERE NOT b.done AND b.claimed_at < now() - interval '10 minutes' RETURNING id");
    c.prepare("batch_done", "SELECT done FROM sealpost_webhook_batches WHERE id = $1");
    c.prepare("commit_batch", "UPDATE sealpost_webhook_batches SET done = true WHERE id = $1");
    c.prepare("release_batch", "DELETE FROM sealpost_webhook_batches WHERE id = $1 AND NOT done");
}

int schema_version(PgConnection& c) {
    auto t = c.exec("SELECT to_regclass('sealpost_schema') IS NOT NULL");
    if (t.value(0, 0) != "t") return 0;
    auto v = c.exec("SELECT coalesce(max(version), 0) FROM sealpost_schema");
    return std::stoi(v.value(0, 0));
}

}  // namespace

class PostgresCertStore::Lease {
public:
    Lease(const PostgresCertStore& s, std::unique_ptr<PgConnection> c) : s_(s), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease() {
        if (!c_ || !c_->ok()) return;  // a broken connection is dropped; the next lease connects anew
        std::lock_guard lock(s_.pool_mutex_);
        if (s_.idle_.size() < kMaxIdle) s_.idle_.push_back(std::move(c_));
    }
    PgConnection& operator*() { return *c_; }
    PgConnection* operator->() { return c_.get(); }

private:
    const PostgresCertStore& s_;
    std::unique_ptr<PgConnection> c_;
};

int PostgresCertStore::init_schema(PgConnection& c) {
    PgConnection::Transaction tx(c);
    c.exec("SELECT pg_advisory_xact_lock(hashtext('sealpost:schema'))");  // two nodes initialising at once
    int found = schema_version(c);
    if (found > kSchemaVersion)
        fail(ErrorKind::Config, "store: postgres: schema version " + std::to_string(found) +
                                    " is newer than this sealpost's " + std::to_string(kSchemaVersion));
    if (found < 1) {
        c.exec(kSchemaV1);
        c.exec("INSERT INTO sealpost_schema (version) VALUES (1)");
    }
    if (found < 2) {
        c.exec(kSchemaV2);
        c.exec("INSERT INTO sealpost_schema (version) VALUES (2)");
    }
    tx.commit();
    return found;
}

PostgresCertStore::PostgresCertStore(PostgresStoreOptions options) : options_(std::move(options)) {
    auto first = std::make_unique<PgConnection>(options_.conninfo);
    where_ = first->describe();
    int version = schema_version(*first);
    if (version == 0 && !options_.create_schema)
        fail(ErrorKind::Config, "store: postgres: " + where_ +
                                    " has no sealpost schema: run `sealpost store init` (or set [store] "
                                    "create-schema = yes)");
    if (version < kSchemaVersion || version > kSchemaVersion) init_schema(*first);
    prepare_statements(*first);
    idle_.push_back(std::move(first));
    // LISTEN before the first lookup: no change can fall between the two.
    listener_ = connect_listener();
    listening_ = true;
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) fail(ErrorKind::Internal, "store: postgres: eventfd failed");
    listener_thread_ = std::thread([this] { listen_loop(); });
    log()->info("store: postgres {} (schema version {})", where_, kSchemaVersion);
}

PostgresCertStore::~PostgresCertStore() {
    stop_ = true;
    if (wake_fd_ >= 0) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    }
    if (listener_thread_.joinable()) listener_thread_.join();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::unique_ptr<PgConnection> PostgresCertStore::connect_listener() const {
    auto c = std::make_unique<PgConnection>(options_.conninfo);
    c->exec(std::string("LISTEN ") + kChannel);
    return c;
}

void PostgresCertStore::listen_loop() {
    while (!stop_) {
        if (!listener_) {
            try {
                listener_ = connect_listener();
                invalidate_all();  // what changed while we were deaf is unknown
                listening_ = true;
                log()->info("store: postgres: listening again for changes");
            } catch (const std::exception&) {  // said once, when it was lost
                pollfd p{wake_fd_, POLLIN, 0};
                ::poll(&p, 1, 1000);
                continue;
            }
        }
        pollfd fds[2] = {{PQsocket(listener_->raw()), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        ::poll(fds, 2, 1000);
        if (stop_) break;
        if (!PQconsumeInput(listener_->raw()) || !listener_->ok()) {
            listening_ = false;
            invalidate_all();
            log()->warn("store: postgres: lost the change listener's connection: {}; lookups fail until it is back",
                        PQerrorMessage(listener_->raw()));
            listener_.reset();
            continue;
        }
        while (PGnotify* n = PQnotifies(listener_->raw())) {
            invalidate(n->extra ? n->extra : "");
            PQfreemem(n);
        }
    }
}

void PostgresCertStore::invalidate(const std::string& address) const {
    std::unique_lock lock(index_mutex_);
    ++generation_;
    index_.erase(address);
}

void PostgresCertStore::invalidate_all() const {
    std::unique_lock lock(index_mutex_);
    ++generation_;
    index_.clear();
}

PostgresCertStore::Lease PostgresCertStore::lease() const {
    for (;;) {
        std::unique_ptr<PgConnection> c;
        {
            std::lock_guard lock(pool_mutex_);
            if (idle_.empty()) break;
            c = std::move(idle_.back());
            idle_.pop_back();
        }
        // An idle connection the server closed (a restart) has its EOF
        // waiting on the socket: reading it, without blocking, tells.
        if (PQconsumeInput(c->raw()) && c->ok()) return Lease(*this, std::move(c));
    }
    auto c = std::make_unique<PgConnection>(options_.conninfo);
    prepare_statements(*c);
    return Lease(*this, std::move(c));
}

std::vector<StoredCertificatePtr> PostgresCertStore::history(std::string_view address_in) const {
    std::string address = normalise_address(address_in);
    if (auto why = unsafe_file_name_reason(address))
        fail(ErrorKind::Input, "address '" + printable(address, 80) + "' cannot be stored: " + *why);
    if (!listening_)
        fail(ErrorKind::TempFail, "store: postgres: " + where_ + ": connection lost (reconnecting)");
    unsigned long gen;
    {
        std::shared_lock lock(index_mutex_);
        auto it = index_.find(address);
        if (it != index_.end()) return it->second;
        gen = generation_;
    }
    std::vector<StoredCertificatePtr> out;
    {
        auto c = lease();
        auto r = c->exec_prepared("history", {address});
        for (int i = 0; i < r.rows(); ++i) {
            auto sc = std::make_shared<StoredCertificate>();
            sc->address = address;
            sc->fingerprint = r.value(i, 0);
            try {
                sc->cert = read_certificate_pem(r.value(i, 2));
            } catch (const Error& e) {
                log()->warn("store: postgres: {} {}: unreadable certificate: {}", address, sc->fingerprint, e.what());
                continue;
            }
            if (auto meta = metadata_from_json_text(r.value(i, 3)); meta && meta->fingerprint == sc->fingerprint)
                sc->meta = std::move(*meta);
            // The column says current or not; revoked is taken from the metadata (mark_revoked).
            const bool revoked = sc->meta.status == CertStatus::Revoked;
            sc->meta.status = cert_status_from_string(r.value(i, 1)).value_or(CertStatus::Superseded);
            sc->current = sc->meta.status == CertStatus::Current;
            if (revoked) sc->meta.status = CertStatus::Revoked;
            out.push_back(std::move(sc));
        }
    }
    std::unique_lock lock(index_mutex_);
    if (generation_ == gen && listening_) {  // nothing changed meanwhile: the answer may be kept
        if (index_.size() >= kMaxIndexed) index_.clear();
        index_[address] = out;
    }
    return out;
}

StoredCertificatePtr PostgresCertStore::get(std::string_view address) const {
    auto all = history(address);
    if (!all.empty() && all.front()->current) return all.front();
    return nullptr;
}

// put()'s rules for one certificate inside the caller's transaction on `c`.
PutResult PostgresCertStore::put_in(PgConnection& c, const std::string& address, X509* cert, CertMetadata meta) {
    std::string fp = sha256_fingerprint(cert);
    std::time_t expires = not_after(cert);
    meta.address = address;
    meta.fingerprint = fp;
    meta.recorded = true;
    PutResult result{PutOutcome::Stored, ""};
    c.exec_prepared("lock_address", {address});  // puts for one address, from any node, one at a time
    if (c.exec_prepared("known_revoked", {address, fp}).rows() > 0) return {PutOutcome::KnownRevoked, fp};
    auto cur = c.exec_prepared("current_of", {address});
    bool has_current = cur.rows() > 0;
    if (has_current && cur.value(0, 0) == fp) return {PutOutcome::AlreadyCurrent, fp};
    const bool current_revoked = has_current && cur.value(0, 2) == "t";
    if (has_current && !current_revoked && std::stoll(cur.value(0, 1)) > static_cast<long long>(expires)) {
        result = {PutOutcome::OlderIgnored, cur.value(0, 0)};
        meta.status = CertStatus::Superseded;
    } else {
        if (has_current) {
            result = {PutOutcome::Replaced, cur.value(0, 0)};
            c.exec_prepared("supersede", {address});
        }
        meta.status = CertStatus::Current;
    }
    c.exec_prepared("upsert", {address, fp, to_string(meta.status), std::to_string(expires), certificate_pem(cert),
                               metadata_to_json_text(meta)});
    c.exec_prepared("notify", {address});  // delivered to every listener at commit
    return result;
}

PutResult PostgresCertStore::put(std::string_view address_in, X509* cert, CertMetadata meta, bool /*durable*/) {
    std::vector<PutRequest> one;
    one.push_back(PutRequest{std::string(address_in), x509_ref(cert), std::move(meta)});
    return put_batch(std::move(one)).front();
}

// One transaction for the whole batch (one commit, one WAL flush). The
// advisory locks are taken in address order (items of one address keep
// their order), so two batches never wait for each other in a cycle.
std::vector<PutResult> PostgresCertStore::put_batch(std::vector<PutRequest> items, bool /*durable*/) {
    std::vector<std::string> addresses;
    for (const auto& item : items) {
        std::string address = normalise_address(item.address);
        if (auto why = unsafe_file_name_reason(address))
            fail(ErrorKind::Input, "address '" + printable(address, 80) + "' cannot be stored: " + *why);
        addresses.push_back(std::move(address));
    }
    std::vector<std::size_t> order(items.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return addresses[a] < addresses[b]; });
    std::vector<PutResult> out(items.size(), PutResult{PutOutcome::AlreadyCurrent, ""});
    {
        auto c = lease();
        PgConnection::Transaction tx(*c);
        for (std::size_t i : order) out[i] = put_in(*c, addresses[i], items[i].cert.get(), std::move(items[i].meta));
        tx.commit();
    }
    for (std::size_t i = 0; i < items.size(); ++i)
        if (out[i].outcome != PutOutcome::AlreadyCurrent && out[i].outcome != PutOutcome::KnownRevoked)
            invalidate(addresses[i]);  // our own listener will hear it too; do not wait for it
    return out;
}

std::vector<std::string> PostgresCertStore::addresses() const {
    auto c = lease();
    auto r = c->exec_prepared("addresses", {});
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.value(i, 0));
    return out;
}

bool PostgresCertStore::forget(std::string_view address_in) {
    std::string address = normalise_address(address_in);
    long n;
    {
        auto c = lease();
        PgConnection::Transaction tx(*c);
        n = c->exec_prepared("forget", {address}).affected();
        c->exec_prepared("notify", {address});
        tx.commit();
    }
    invalidate(address);
    return n > 0;
}

bool PostgresCertStore::mark_revoked(std::string_view address_in, const std::string& fingerprint,
                                     const std::string& evidence) {
    std::string address = normalise_address(address_in);
    long n;
    {
        auto c = lease();
        PgConnection::Transaction tx(*c);
        n = c->exec_prepared("mark_revoked", {address, fingerprint, evidence}).affected();
        c->exec_prepared("notify", {address});
        tx.commit();
    }
    invalidate(address);
    return n > 0;
}

BatchClaim PostgresCertStore::claim_batch(const std::string& id) {
    auto c = lease();
    if (c->exec_prepared("claim_batch", {id}).rows() == 1) return BatchClaim::Mine;
    auto done = c->exec_prepared("batch_done", {id});
    if (done.rows() == 1 && done.value(0, 0) == "t") return BatchClaim::Done;
    return BatchClaim::Busy;
}

void PostgresCertStore::commit_batch(const std::string& id) {
    auto c = lease();
    c->exec_prepared("commit_batch", {id});
}

void PostgresCertStore::release_batch(const std::string& id) {
    auto c = lease();
    c->exec_prepared("release_batch", {id});
}

// The invitation ledger (schema version 2): claims under one advisory
// lock, so two nodes never both invite an address within the interval nor
// together exceed max-per-day.

namespace {

std::string ledger_address(std::string_view in) {
    std::string address = normalise_address(in);
    if (auto why = unsafe_file_name_reason(address))
        fail(ErrorKind::Input, "address '" + printable(address, 80) + "' cannot be recorded: " + *why);
    return address;
}

}  // namespace

void PostgresCertStore::record_wanted(const std::vector<InviteRecord>& wanted) {
    if (wanted.empty()) return;
    std::vector<std::string> addresses;
    for (const auto& w : wanted) addresses.push_back(ledger_address(w.address));
    auto c = lease();
    PgConnection::Transaction tx(*c);
    for (std::size_t i = 0; i < wanted.size(); ++i)
        c->exec_prepared("invite_wanted", {addresses[i], to_string(wanted[i].reason), std::to_string(wanted[i].wanted_at)});
    tx.commit();
}

std::vector<InviteRecord> PostgresCertStore::invitations() const {
    auto c = lease();
    auto r = c->exec_prepared("invite_all", {});
    std::vector<InviteRecord> out;
    for (int i = 0; i < r.rows(); ++i) {
        InviteRecord rec;
        rec.address = r.value(i, 0);
        rec.reason = invite_reason_from_string(r.value(i, 1));
        rec.wanted_at = std::stoll(r.value(i, 2));
        rec.wanted_count = std::stoll(r.value(i, 3));
        rec.invited_at = std::stoll(r.value(i, 4));
        rec.invite_count = std::stoll(r.value(i, 5));
        out.push_back(std::move(rec));
    }
    return out;
}

InviteClaim PostgresCertStore::claim_invitation(std::string_view address_in, InviteReason reason, std::time_t now,
                                                long long interval, long long max_per_day) {
    std::string address = ledger_address(address_in);
    auto c = lease();
    PgConnection::Transaction tx(*c);
    c->exec_prepared("invite_lock", {});
    InviteClaim claim;
    auto cur = c->exec_prepared("invite_of", {address});
    if (cur.rows() > 0) {
        claim.previous_invited_at = std::stoll(cur.value(0, 0));
        if (claim.previous_invited_at != 0 && now - claim.previous_invited_at < interval) {
            claim.outcome = InviteClaimOutcome::TooSoon;
            return claim;  // rolled back
        }
    }
    if (max_per_day > 0) {
        auto today = c->exec_prepared("invite_today", {std::to_string(now - 86400)});
        if (std::stoll(today.value(0, 0)) >= max_per_day) {
            claim.outcome = InviteClaimOutcome::DailyLimit;
            return claim;
        }
    }
    c->exec_prepared("invite_claim", {address, to_string(reason), std::to_string(now)});
    tx.commit();
    claim.outcome = InviteClaimOutcome::Claimed;
    return claim;
}

void PostgresCertStore::release_invitation(std::string_view address_in, std::time_t previous_invited_at) {
    std::string address = ledger_address(address_in);
    auto c = lease();
    c->exec_prepared("invite_release", {address, std::to_string(previous_invited_at)});
}

}  // namespace sealpost
