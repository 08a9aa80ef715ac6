// cert_store_files.cpp: the directory backend: index with stat()-based
// freshness, atomic put with the "never replace a later-expiring
// certificate" rule, older certificates kept under .history/.
#include "cert_store_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "address.hpp"
#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {
namespace {

constexpr std::size_t kMaxFile = 1024 * 1024;

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void sort_latest_first(std::vector<StoredCertificatePtr>& v) {
    std::stable_sort(v.begin(), v.end(), [](const StoredCertificatePtr& a, const StoredCertificatePtr& b) {
        return not_after(a->cert.get()) > not_after(b->cert.get());
    });
}

}  // namespace

bool FilesCertStore::Stamp::operator==(const Stamp& o) const {
    return exists == o.exists && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec &&
           size == o.size && inode == o.inode;
}

FilesCertStore::FilesCertStore(std::filesystem::path dir)
    : dir_(std::move(dir)), batches_((ensure_directory(dir_), dir_ / ".webhook-batch-ids")) {}

FilesCertStore::~FilesCertStore() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

// The in-process mutex, then flock() on the directory itself (no lock file
// beside the certificates).
class FilesCertStore::WriteLock {
public:
    explicit WriteLock(FilesCertStore& s) : s_(s), guard_(s.write_mutex_) {
        if (s_.lock_fd_ < 0) {
            s_.lock_fd_ = ::open(s_.dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (s_.lock_fd_ < 0)
                fail(ErrorKind::TempFail, "store: cannot open " + s_.dir_.string() + ": " + std::strerror(errno));
        }
        while (::flock(s_.lock_fd_, LOCK_EX) != 0)
            if (errno != EINTR) fail(ErrorKind::TempFail, std::string("store: flock: ") + std::strerror(errno));
    }
    ~WriteLock() { ::flock(s_.lock_fd_, LOCK_UN); }

private:
    FilesCertStore& s_;
    std::lock_guard<std::mutex> guard_;
};

FilesCertStore::Stamp FilesCertStore::stamp(const std::filesystem::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return {};
    return Stamp{true, st.st_mtim, st.st_size, st.st_ino};
}

std::filesystem::path FilesCertStore::history_dir(const std::string& address) const {
    return dir_ / ".history" / address_file_name(address, "");
}

StoredCertificatePtr FilesCertStore::load(const std::filesystem::path& crt, const std::filesystem::path& json,
                                          const std::string& address, CertStatus default_status) const {
    auto pem = read_file(crt, kMaxFile);
    if (!pem) return nullptr;
    auto sc = std::make_shared<StoredCertificate>();
    sc->address = address;
    try {
        sc->cert = read_certificate_pem(*pem);
    } catch (const Error& e) {
        log()->warn("store: {}: unreadable certificate file: {}", crt.string(), e.what());
        return nullptr;
    }
    sc->fingerprint = sha256_fingerprint(sc->cert.get());
    sc->meta.status = default_status;
    if (auto text = read_file(json, kMaxFile)) {
        // The metadata belongs to this certificate only if the fingerprints agree.
        auto meta = metadata_from_json_text(*text);
        if (meta && meta->fingerprint == sc->fingerprint) sc->meta = std::move(*meta);
    }
    sc->current = default_status == CertStatus::Current;
    // The place decides current or not; only revoked is taken from the file.
    if (sc->meta.status != CertStatus::Revoked) sc->meta.status = default_status;
    return sc;
}

FilesCertStore::Entry FilesCertStore::entry(const std::string& address) const {
    auto crt = dir_ / address_file_name(address, ".crt");
    auto hdir = history_dir(address);
    Stamp crt_now = stamp(crt), hist_now = stamp(hdir);
    {
        std::shared_lock lock(index_mutex_);
        auto it = index_.find(address);
        if (it != index_.end() && it->second.crt == crt_now && it->second.hist == hist_now) return it->second;
    }
    // New or changed on disk: read it, then stat again so the entry describes
    // exactly what was read (a writer may have renamed in between).
    Entry e;
    if (crt_now.exists) e.current = load(crt, dir_ / address_file_name(address, ".json"), address, CertStatus::Current);
    if (hist_now.exists) {
        std::error_code ec;
        for (const auto& f : std::filesystem::directory_iterator(hdir, ec)) {
            std::string name = f.path().filename().string();
            if (name.front() == '.' || !ends_with(name, ".crt")) continue;
            auto json = f.path();
            json.replace_extension(".json");
            if (auto sc = load(f.path(), json, address, CertStatus::Superseded)) {
                if (e.current && sc->fingerprint == e.current->fingerprint) continue;
                e.others.push_back(std::move(sc));
            }
        }
        sort_latest_first(e.others);
    }
    e.crt = stamp(crt);
    e.hist = stamp(hdir);
    std::unique_lock lock(index_mutex_);
    if (!e.crt.exists && !e.hist.exists)
        index_.erase(address);
    else
        index_[address] = e;
    return e;
}

StoredCertificatePtr FilesCertStore::get(std::string_view address_in) const {
    return entry(normalise_address(address_in)).current;
}

std::vector<StoredCertificatePtr> FilesCertStore::history(std::string_view address_in) const {
    Entry e = entry(normalise_address(address_in));
    std::vector<StoredCertificatePtr> out;
    if (e.current) out.push_back(e.current);
    out.insert(out.end(), e.others.begin(), e.others.end());
    return out;
}

// Stages a copy of `sc` in the address's history (phase 0: made durable
// before any current certificate of the group is renamed into place).
void FilesCertStore::stage_history(AtomicFileGroup& group, const std::string& address, const StoredCertificate& sc) {
    auto hdir = history_dir(address);
    std::error_code ec;
    if (!std::filesystem::is_directory(hdir, ec)) {
        bool had_parent = std::filesystem::is_directory(dir_ / ".history", ec);
        ensure_directory(hdir);
        // The new directories' names must be durable with the files in them.
        group.also_sync(dir_ / ".history", 0);
        if (!had_parent) group.also_sync(dir_, 0);
    }
    CertMetadata meta = sc.meta;
    meta.address = address;
    meta.fingerprint = sc.fingerprint;
    if (meta.status != CertStatus::Revoked) meta.status = CertStatus::Superseded;
    group.stage(hdir, sc.fingerprint + ".json", metadata_to_json_text(meta), 0);
    group.stage(hdir, sc.fingerprint + ".crt", certificate_pem(sc.cert.get()), 0);
}

PutResult FilesCertStore::put(std::string_view address_in, X509* cert, CertMetadata meta, bool durable) {
    std::vector<PutRequest> one;
    one.push_back(PutRequest{std::string(address_in), x509_ref(cert), std::move(meta)});
    return put_batch(std::move(one), durable).front();
}

// put()'s rules for each item in turn against `state` (the store as the
// items before it leave it), every file staged in one AtomicFileGroup:
// history copies in phase 0, then metadata and certificate in phase 1, so
// at commit every file is fsynced before its rename, the history directory
// is durable before a .crt rename (the commit point of an address) and the
// store directory is fsynced once for the whole batch.
std::vector<PutResult> FilesCertStore::put_batch(std::vector<PutRequest> items, bool durable) {
    WriteLock write_lock(*this);
    AtomicFileGroup group(durable);
    std::map<std::string, Entry> state;
    std::vector<PutResult> out;
    out.reserve(items.size());
    for (auto& item : items) {
        std::string address = normalise_address(item.address);
        std::string crt_name = address_file_name(address, ".crt");
        X509* cert = item.cert.get();
        std::string fp = sha256_fingerprint(cert);
        auto [pos, fresh] = state.try_emplace(address);
        if (fresh) pos->second = entry(address);
        Entry& e = pos->second;
        const StoredCertificatePtr current = e.current;
        auto same = [&](const StoredCertificatePtr& o) { return o && o->fingerprint == fp; };
        if ((same(current) && current->meta.status == CertStatus::Revoked) ||
            std::any_of(e.others.begin(), e.others.end(),
                        [&](const StoredCertificatePtr& o) { return same(o) && o->meta.status == CertStatus::Revoked; })) {
            out.push_back({PutOutcome::KnownRevoked, fp});
            continue;
        }
        if (same(current)) {
            out.push_back({PutOutcome::AlreadyCurrent, fp});
            continue;
        }
        CertMetadata meta = std::move(item.meta);
        meta.address = address;
        meta.fingerprint = fp;
        meta.recorded = true;
        auto sc = std::make_shared<StoredCertificate>();
        sc->address = address;
        sc->cert = x509_ref(cert);
        sc->fingerprint = fp;
        sc->meta = std::move(meta);
        auto in_history = [&](const std::string& f) {
            return std::any_of(e.others.begin(), e.others.end(),
                               [&](const StoredCertificatePtr& o) { return o->fingerprint == f; });
        };
        if (current && current->meta.status != CertStatus::Revoked && not_after(current->cert.get()) > not_after(cert)) {
            // A replayed older mail: kept, never current.
            if (!in_history(fp)) {
                stage_history(group, address, *sc);
                sc->meta.status = CertStatus::Superseded;
                e.others.push_back(sc);
                e.hist.exists = true;
            }
            out.push_back({PutOutcome::OlderIgnored, current->fingerprint});
            continue;
        }
        // The one replaced goes to the history (phase 0, durable before the
        // new .crt is renamed): a crash leaves it in both places (history()
        // shows it once), never lost.
        if (current) {
            stage_history(group, address, *current);
            auto old = std::make_shared<StoredCertificate>();
            old->address = current->address;
            old->cert = x509_ref(current->cert.get());
            old->fingerprint = current->fingerprint;
            old->meta = current->meta;
            if (old->meta.status != CertStatus::Revoked) old->meta.status = CertStatus::Superseded;
            e.others.push_back(std::move(old));
            e.hist.exists = true;
        }
        sc->meta.status = CertStatus::Current;
        // Metadata first, certificate last: the .crt rename is the commit
        // point, and a reader ignores metadata whose fingerprint does not match.
        group.stage(dir_, address_file_name(address, ".json"), metadata_to_json_text(sc->meta), 1);
        group.stage(dir_, crt_name, certificate_pem(cert), 1);
        // A copy of the new current one in the history (from an earlier
        // OlderIgnored) is now a duplicate: removed after the renames.
        if (e.hist.exists) {
            group.remove_after_commit(history_dir(address) / (fp + ".crt"));
            group.remove_after_commit(history_dir(address) / (fp + ".json"));
            e.others.erase(std::remove_if(e.others.begin(), e.others.end(),
                                          [&](const StoredCertificatePtr& o) { return o->fingerprint == fp; }),
                           e.others.end());
        }
        e.current = sc;
        out.push_back({current ? PutOutcome::Replaced : PutOutcome::Stored, current ? current->fingerprint : ""});
    }
    if (group.staged() == 0) return out;
    group.commit();
    // The index learns what was just written (no re-read and re-parse of our
    // own files); the stamps are taken under the lock, after the renames.
    std::unique_lock lock(index_mutex_);
    for (auto& [address, e] : state) {
        sort_latest_first(e.others);
        e.crt = stamp(dir_ / address_file_name(address, ".crt"));
        e.hist = stamp(history_dir(address));
        if (e.crt.exists || e.hist.exists) index_[address] = std::move(e);
    }
    return out;
}

std::vector<std::string> FilesCertStore::addresses() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
        std::string name = e.path().filename().string();
        if (name.front() == '.' || !ends_with(name, ".crt")) continue;
        std::string address = name.substr(0, name.size() - 4);
        if (unsafe_file_name_reason(address)) continue;
        out.push_back(address);
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool FilesCertStore::forget(std::string_view address_in) {
    std::string address = normalise_address(address_in);
    WriteLock write_lock(*this);
    std::error_code ec;
    bool had = std::filesystem::remove(dir_ / address_file_name(address, ".crt"), ec);
    std::filesystem::remove(dir_ / address_file_name(address, ".json"), ec);
    had = std::filesystem::remove_all(history_dir(address), ec) > 0 || had;
    if (ec) fail(ErrorKind::TempFail, "store: cannot remove " + history_dir(address).string() + ": " + ec.message());
    sync_directory(dir_);
    std::unique_lock lock(index_mutex_);
    index_.erase(address);
    return had;
}

// Rewrites the metadata in place with status revoked, then the certificate
// file (same bytes, a new inode) so that every process's index notices.
bool FilesCertStore::mark_revoked(std::string_view address_in, const std::string& fingerprint,
                                  const std::string& evidence) {
    std::string address = normalise_address(address_in);
    if (auto why = unsafe_file_name_reason(address)) fail(ErrorKind::Input, *why);
    WriteLock write_lock(*this);
    Entry e = entry(address);
    StoredCertificatePtr target;
    if (e.current && e.current->fingerprint == fingerprint) target = e.current;
    for (const auto& o : e.others)
        if (!target && o->fingerprint == fingerprint) target = o;
    if (!target) return false;
    CertMetadata meta = target->meta;
    meta.address = address;
    meta.fingerprint = fingerprint;
    meta.recorded = true;
    meta.status = CertStatus::Revoked;
    meta.revocation = evidence;
    const bool current = target == e.current;
    const auto where = current ? dir_ : history_dir(address);
    const std::string base = current ? address_file_name(address, "") : fingerprint;
    write_file_atomic(where, base + ".json", metadata_to_json_text(meta), true, 0644, false);
    write_file_atomic(where, base + ".crt", certificate_pem(target->cert.get()), true);
    std::unique_lock lock(index_mutex_);
    index_.erase(address);
    return true;
}

BatchClaim FilesCertStore::claim_batch(const std::string& id) { return batches_.claim(id); }

void FilesCertStore::commit_batch(const std::string& id) { batches_.commit(id); }

void FilesCertStore::release_batch(const std::string& id) { batches_.release(id); }

}  // namespace sealpost
