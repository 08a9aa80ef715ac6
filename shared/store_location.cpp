// store_location.cpp: one resolver for the store's directory and backend.
#include "store_location.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>

#include "atomic_file.hpp"
#include "cert_store_files.hpp"
#include "cert_store_postgres.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {
namespace {

struct StoreKey {
    const char* section;
    const char* key;
};

constexpr std::array kStoreKeys = {StoreKey{"store", "dir"}, StoreKey{"collector", "store"},
                                   StoreKey{"webapp", "user-certs-dir"}};

std::string key_name(const StoreKey& k) { return std::string("[") + k.section + "] " + k.key; }

bool same_directory(const std::filesystem::path& a, const std::filesystem::path& b) {
    std::error_code ec;
    if (std::filesystem::equivalent(a, b, ec)) return true;
    auto norm = [](const std::filesystem::path& p) {
        auto n = p.lexically_normal();
        return n.has_filename() || n == n.root_path() ? n : n.parent_path();  // "/srv/a/" is "/srv/a"
    };
    return norm(a) == norm(b);
}

}  // namespace

std::optional<StoreLocation> resolve_store_location(const Config& config) {
    for (const auto& k : kStoreKeys)
        if (config.is_flag(k.section, k.key) && !config.get_or(k.section, k.key, "").empty())
            return StoreLocation{config.get_or(k.section, k.key, ""), "--store"};
    std::optional<StoreLocation> found;
    for (const auto& k : kStoreKeys) {
        std::string value = config.get_or(k.section, k.key, "");
        if (value.empty()) continue;
        if (!found) {
            found = StoreLocation{value, key_name(k)};
        } else if (!same_directory(found->dir, value)) {
            fail(ErrorKind::Config, "config: " + found->key + " = " + found->dir.string() + " and " + key_name(k) +
                                        " = " + value +
                                        " name different certificate stores; there is one store: set one of them");
        }
    }
    return found;
}

// [store] cache-dir, else systemd's $CACHE_DIRECTORY, else /var/cache/sealpost
// for root, else $XDG_CACHE_HOME/sealpost or ~/.cache/sealpost.
static std::filesystem::path node_cache_dir(const Config& config) {
    std::string set = config.get_or("store", "cache-dir", "");
    if (!set.empty()) return set;
    if (const char* d = std::getenv("CACHE_DIRECTORY"); d && *d) return std::string(d).substr(0, std::string(d).find(':'));
    if (::geteuid() == 0) return "/var/cache/sealpost";
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "sealpost";
    if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "sealpost";
    return std::filesystem::temp_directory_path() / ("sealpost-cache-" + std::to_string(::geteuid()));
}

std::unique_ptr<CertStore> open_configured_store(const Config& config, StoreAccess access) {
    std::string backend = config.get_or("store", "backend", "files");
    if (backend == "postgres") {
        PostgresStoreOptions o;
        o.conninfo = config.get_or("store", "url", "");
        o.create_schema = access == StoreAccess::CreateIfMissing && config.get_bool("store", "create-schema", false);
        o.cache_dir = node_cache_dir(config);
        return std::make_unique<PostgresCertStore>(o);
    }
    if (backend != "files")
        fail(ErrorKind::Config, "config: [store] backend = " + backend + ": unknown (files or postgres)");
    auto where = resolve_store_location(config);
    if (!where) return nullptr;
    if (access == StoreAccess::ReadExisting) {
        std::error_code ec;
        if (!std::filesystem::is_directory(where->dir, ec))
            fail(ErrorKind::Config, "config: " + where->key + " = " + where->dir.string() +
                                        ": no such directory (check the path; the collector creates it)");
        if (::access(where->dir.c_str(), R_OK | X_OK) != 0)
            fail(ErrorKind::Config, "config: " + where->key + " = " + where->dir.string() + ": cannot be read");
    }
    auto store = std::make_unique<FilesCertStore>(where->dir);
    if (access == StoreAccess::CreateIfMissing) {
        // A writer tidies what crashed writers left: the store's own
        // temporaries and half-done puts (recover()), then any other
        // temporary of a writer that is gone.
        auto r = store->recover();
        if (r.total() > 0)
            log()->warn("store: recovered from a crashed writer in {}: {} temporar{}, {} metadata file{} restored, "
                        "{} orphaned metadata file{}, {} duplicate history cop{} removed",
                        where->dir.string(), r.temporaries, r.temporaries == 1 ? "y" : "ies", r.metadata_restored,
                        r.metadata_restored == 1 ? "" : "s", r.orphans, r.orphans == 1 ? "" : "s", r.duplicates,
                        r.duplicates == 1 ? "y" : "ies");
        if (auto n = remove_stale_temporaries(where->dir))
            log()->warn("store: removed {} temporar{} left by a crashed writer in {}", n, n == 1 ? "y" : "ies",
                        where->dir.string());
    }
    return store;
}

}  // namespace sealpost
