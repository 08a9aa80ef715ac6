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
#include "crash_point.hpp"
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
    if (auto meta = read_metadata(json, sc->fingerprint)) {
        sc->meta = std::move(*meta);
    } else if (default_status == CertStatus::Current) {
        // Metadata keyed by fingerprint: put keeps the current certificate
        // in the history (with its metadata) before it overwrites
        // <address>.json, so a writer that crashed between the two renames
        // left the old certificate's metadata there (commit protocol: put).
        if (auto kept = read_metadata(history_dir(address) / (sc->fingerprint + ".json"), sc->fingerprint))
            sc->meta = std::move(*kept);
    }
    sc->current = default_status == CertStatus::Current;
    // The place decides current or not; only revoked is taken from the file.
    if (sc->meta.status != CertStatus::Revoked) sc->meta.status = default_status;
    return sc;
}

// The metadata in `json` when it belongs to the certificate `fingerprint`.
std::optional<CertMetadata> FilesCertStore::read_metadata(const std::filesystem::path& json,
                                                          const std::string& fingerprint) {
    auto text = read_file(json, kMaxFile);
    if (!text) return std::nullopt;
    auto meta = metadata_from_json_text(*text);
    if (!meta || meta->fingerprint != fingerprint) return std::nullopt;
    return meta;
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

// The commit protocol (every window is consistent for a reader, and
// recover() brings each back to the state before or after the put; the
// crash_point hits mark the windows, store_crash_test.cpp steps through
// each). For a new certificate N of address A, with O current:
//   1. O into the history: .history/A/<O>.json, then .history/A/<O>.crt.
//      O is now kept twice; history() shows it once.
//   2. A.json := N's metadata. A.crt is still O: a reader takes O's
//      metadata from .history/A/<O>.json (load(): metadata keyed by
//      fingerprint), so O never loses its evidence; recover() writes it
//      back to A.json.
//   3. A.crt := N: the commit point (then one directory fsync, which
//      persists the rename of step 2 too).
//   4. A copy of N in the history (kept by an earlier OlderIgnored put) is
//      now a duplicate: removed, .crt first.
// Without O, only 2 and 3 (a crash between: A.json without A.crt, which
// readers never list and recover() removes). An older N (OlderIgnored) is
// step 1 for N alone. A crash inside any write leaves a temporary
// (".A.crt.tmp.<pid>.<n>"), which recover() removes.
// The steps are carried out by one AtomicFileGroup (group commit, also for
// put_batch): every temporary is written and made durable first (one fsync
// each, or one syncfs and one fsync for the group: group_sync.hpp), then the renames
// run in the order above (steps 1 of every item, then steps 2 and 3 item by
// item), each directory fsynced once per phase; a batch crashed midway shows
// its first items done and the rest not, each address before or after.
PutResult FilesCertStore::put(std::string_view address_in, X509* cert, CertMetadata meta, bool durable) {
    std::vector<PutRequest> one;
    one.push_back(PutRequest{std::string(address_in), x509_ref(cert), std::move(meta)});
    return put_batch(std::move(one), durable).front();
}

// put()'s rules for each item in turn against `state` (the store as the
// items before it leave it), every file staged in one AtomicFileGroup:
// history copies in phase 0, then metadata and certificate in phase 1, so
// at commit every file is durable before its rename, the history directory
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

FilesCertStore::Recovery FilesCertStore::recover() {
    WriteLock write_lock(*this);
    Recovery r;
    std::error_code ec;
    auto is_ours = [](const std::string& target) { return ends_with(target, ".crt") || ends_with(target, ".json"); };
    // Temporaries of certificates and metadata: every such write happens
    // under the lock we hold, so whoever wrote one is gone, whatever its
    // pid or age says.
    auto remove_temporaries = [&](const std::filesystem::path& dir) {
        std::error_code iec;
        for (const auto& f : std::filesystem::directory_iterator(dir, iec)) {
            auto target = temporary_target(f.path().filename().string());
            if (target && is_ours(*target) && std::filesystem::remove(f.path(), ec)) ++r.temporaries;
        }
    };
    remove_temporaries(dir_);
    std::vector<std::string> top;  // names in dir_, read once
    for (const auto& f : std::filesystem::directory_iterator(dir_, ec)) top.push_back(f.path().filename().string());
    bool top_changed = false;
    for (const auto& name : top) {
        if (name.front() == '.' || !ends_with(name, ".json")) continue;
        std::string address = name.substr(0, name.size() - 5);
        if (unsafe_file_name_reason(address)) continue;
        auto crt = dir_ / address_file_name(address, ".crt");
        auto pem = read_file(crt, kMaxFile);
        if (!pem) {
            // Step 2 of a first put (or a forget) that did not finish.
            if (std::filesystem::remove(dir_ / name, ec)) {
                ++r.orphans;
                top_changed = true;
            }
            continue;
        }
        std::string fp;
        try {
            fp = sha256_fingerprint(read_certificate_pem(*pem).get());
        } catch (const Error&) {
            continue;
        }
        if (read_metadata(dir_ / name, fp)) continue;
        // Step 2 without step 3: the certificate's own metadata is in the history.
        if (auto kept = read_metadata(history_dir(address) / (fp + ".json"), fp)) {
            if (kept->status != CertStatus::Revoked) kept->status = CertStatus::Current;
            write_file_atomic(dir_, name, metadata_to_json_text(*kept), true, 0644, false);
            ++r.metadata_restored;
            top_changed = true;
        }
    }
    auto history_root = dir_ / ".history";
    for (const auto& h : std::filesystem::directory_iterator(history_root, ec)) {
        std::error_code hec;
        if (!h.is_directory(hec)) continue;
        remove_temporaries(h.path());
        std::string address = h.path().filename().string();
        std::string current_fp;
        if (!unsafe_file_name_reason(address))
            if (auto cur = load(dir_ / address_file_name(address, ".crt"), dir_ / address_file_name(address, ".json"),
                                address, CertStatus::Current);
                cur && read_metadata(dir_ / address_file_name(address, ".json"), cur->fingerprint))
                current_fp = cur->fingerprint;
        bool changed = false;
        std::vector<std::filesystem::path> files;
        for (const auto& f : std::filesystem::directory_iterator(h.path(), hec)) files.push_back(f.path());
        for (const auto& f : files) {
            std::string stem = f.stem().string();
            if (f.extension() == ".json" && !std::filesystem::exists(h.path() / (stem + ".crt"), hec)) {
                // Step 1 stopped between its two writes.
                if (std::filesystem::remove(f, hec)) {
                    ++r.orphans;
                    changed = true;
                }
            } else if (f.extension() == ".crt" && !current_fp.empty() && stem == current_fp) {
                // Step 1 or step 4 of a put that did not finish; the current
                // one's metadata is in place, so the copy is a duplicate.
                std::filesystem::remove(f, hec);
                std::filesystem::remove(h.path() / (stem + ".json"), hec);
                ++r.duplicates;
                changed = true;
            }
        }
        if (changed) sync_directory(h.path());
    }
    if (top_changed) sync_directory(dir_);
    std::unique_lock lock(index_mutex_);
    index_.clear();
    return r;
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
