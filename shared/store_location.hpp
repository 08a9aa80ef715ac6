// store_location.hpp: the one answer to "where is the certificate store?",
// used by every command, the host and the collector plugin.
//
// Three keys name the store: [store] dir (the sealpost name), [collector]
// store and the original tool's [webapp] user-certs-dir. A value given on
// the command line wins; otherwise every key that is set must name the same
// directory, or it is a configuration error naming both keys (never a silent
// choice: `collect` writing one directory while `send` reads another is how
// mail goes out in clear).
//
// Readers (`send`, `certs`) need an existing, readable store: a typo in the
// path is exit 78, not "no certificates, send in clear". Writers (`collect`,
// `serve`) create it when missing. Fails with Error(Config).
//
// `[store] backend` chooses the backend: `files` (the default: the
// directory above) or `postgres` (`[store] url`, else the PG* environment
// variables; `[store] create-schema = yes` lets a writer create the schema
// on first start). A database that cannot be reached is Error(TempFail)
// (exit 75) with the connection error: never "no store, send in clear".
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cert_store.hpp"
#include "config.hpp"

namespace sealpost {

struct StoreLocation {
    std::filesystem::path dir;
    std::string key;  // where it was set, e.g. "[store] dir"
};

// nullopt when no key names a store; throws Error(Config) on a conflict.
std::optional<StoreLocation> resolve_store_location(const Config& config);

enum class StoreAccess { ReadExisting, CreateIfMissing };

// The store the configuration names, opened; nullptr when none is configured.
// ReadExisting: Error(Config) when the directory is missing or unreadable,
// or the database has no schema.
std::unique_ptr<CertStore> open_configured_store(const Config& config, StoreAccess access);

}  // namespace sealpost
