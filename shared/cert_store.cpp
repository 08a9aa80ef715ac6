// cert_store.cpp: index with stat()-based freshness, atomic put with the
// "never replace a later-expiring certificate" rule.
#include "cert_store.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "address.hpp"
#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {
namespace {

bool same_stat(const struct stat& st, const struct timespec& mtime, off_t size, ino_t inode) {
    return st.st_mtim.tv_sec == mtime.tv_sec && st.st_mtim.tv_nsec == mtime.tv_nsec && st.st_size == size &&
           st.st_ino == inode;
}

}  // namespace

const char* to_string(PutOutcome o) {
    switch (o) {
        case PutOutcome::Stored: return "stored";
        case PutOutcome::Replaced: return "replaced";
        case PutOutcome::AlreadyCurrent: return "already current";
        case PutOutcome::OlderIgnored: return "older certificate ignored";
    }
    return "?";
}

CertStore::CertStore(std::filesystem::path dir) : dir_(std::move(dir)) { ensure_directory(dir_); }

StoredCertificatePtr CertStore::load(const std::string& address) const {
    auto pem = read_file(dir_ / (address + ".crt"), 1024 * 1024);
    if (!pem) return nullptr;
    auto sc = std::make_shared<StoredCertificate>();
    sc->address = address;
    try {
        sc->cert = read_certificate_pem(*pem);
    } catch (const Error& e) {
        log()->warn("store: {}: unreadable certificate file: {}", address, e.what());
        return nullptr;
    }
    sc->fingerprint = sha256_fingerprint(sc->cert.get());
    if (auto text = read_file(dir_ / (address + ".json"), 1024 * 1024)) {
        // The metadata belongs to this certificate only if the fingerprints agree.
        auto meta = metadata_from_json_text(*text);
        if (meta && meta->fingerprint == sc->fingerprint) sc->meta = std::move(*meta);
    }
    return sc;
}

StoredCertificatePtr CertStore::get(std::string_view address_in) const {
    std::string address = normalise_address(address_in);
    std::string file = dir_ / address_file_name(address, ".crt");
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        std::unique_lock lock(index_mutex_);
        index_.erase(address);
        return nullptr;
    }
    {
        std::shared_lock lock(index_mutex_);
        auto it = index_.find(address);
        if (it != index_.end() && same_stat(st, it->second.mtime, it->second.size, it->second.inode))
            return it->second.value;
    }
    // New or changed on disk: read it, then stat again so the entry describes
    // exactly what was read (a writer may have renamed in between).
    auto value = load(address);
    struct stat after {};
    if (::stat(file.c_str(), &after) != 0) return value;
    std::unique_lock lock(index_mutex_);
    index_[address] = Entry{value, after.st_mtim, after.st_size, after.st_ino};
    return value;
}

CertStore::Usable CertStore::find_for_encryption(std::string_view address, std::time_t now) const {
    auto sc = get(address);
    if (!sc) return {nullptr, "no certificate collected"};
    if (auto why = validity_problem(sc->cert.get(), now)) return {nullptr, "certificate " + *why};
    if (auto why = cannot_encrypt_reason(sc->cert.get())) return {nullptr, "certificate cannot encrypt: " + *why};
    return {sc, ""};
}

PutResult CertStore::put(std::string_view address_in, X509* cert, CertMetadata meta, bool durable) {
    std::string address = normalise_address(address_in);
    std::string crt_name = address_file_name(address, ".crt");
    std::string fp = sha256_fingerprint(cert);
    std::lock_guard write_lock(write_mutex_);
    auto current = get(address);
    if (current && current->fingerprint == fp) return {PutOutcome::AlreadyCurrent, fp};
    if (current && not_after(current->cert.get()) > not_after(cert))
        return {PutOutcome::OlderIgnored, current->fingerprint};
    meta.address = address;
    meta.fingerprint = fp;
    meta.recorded = true;
    // Metadata first, certificate last: the .crt rename is the commit point,
    // and a reader ignores metadata whose fingerprint does not match. Both
    // files are in one directory: the directory fsync after the .crt rename
    // persists the .json rename too (3 fsyncs per certificate, not 4).
    write_file_atomic(dir_, address_file_name(address, ".json"), metadata_to_json_text(meta), durable, 0644,
                      /*sync_dir=*/false);
    write_file_atomic(dir_, crt_name, certificate_pem(cert), durable);
    // The index learns what was just written without reading it back (a
    // writer in another process racing this one is seen at its next change).
    auto sc = std::make_shared<StoredCertificate>();
    sc->address = address;
    sc->cert = x509_ref(cert);
    sc->fingerprint = fp;
    sc->meta = std::move(meta);
    struct stat st {};
    if (::stat((dir_ / crt_name).c_str(), &st) == 0) {
        std::unique_lock lock(index_mutex_);
        index_[address] = Entry{std::move(sc), st.st_mtim, st.st_size, st.st_ino};
    }
    if (current) return {PutOutcome::Replaced, current->fingerprint};
    return {PutOutcome::Stored, ""};
}

std::optional<std::string> CertStore::forget(std::string_view address_in) {
    std::string address = normalise_address(address_in);
    std::string crt_name = address_file_name(address, ".crt");
    std::lock_guard write_lock(write_mutex_);
    auto current = get(address);
    std::error_code ec;
    bool removed = std::filesystem::remove(dir_ / crt_name, ec);
    if (ec) fail(ErrorKind::CantCreate, "store: cannot remove " + (dir_ / crt_name).string() + ": " + ec.message());
    std::filesystem::remove(dir_ / address_file_name(address, ".json"), ec);
    if (ec) log()->warn("store: {}: certificate removed, metadata left: {}", address, ec.message());
    {
        std::unique_lock lock(index_mutex_);
        index_.erase(address);
    }
    if (!removed) return std::nullopt;
    sync_directory(dir_);
    return current ? current->fingerprint : std::string("unreadable");
}

std::vector<std::string> CertStore::addresses() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
        std::string name = e.path().filename().string();
        if (name.size() <= 4 || name.front() == '.' || name.compare(name.size() - 4, 4, ".crt") != 0) continue;
        std::string address = name.substr(0, name.size() - 4);
        if (unsafe_file_name_reason(address)) continue;
        out.push_back(address);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace sealpost
