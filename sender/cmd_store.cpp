// cmd_store.cpp: `sealpost store init | migrate --from SPEC --to SPEC`: the
// store's own housekeeping.
//   init     creates (or upgrades) the postgres schema: [store] url, --url,
//            or the PG* environment variables; idempotent
//   migrate  copies every certificate kept for every address, with its
//            metadata, from one store to another (SPEC: files:DIR or
//            postgres:CONNINFO, e.g. postgres:postgresql://host/db);
//            the current one first, so the put rule keeps it current;
//            idempotent (a second run copies nothing) and ends with a
//            summary. Webhook batch ids are not copied.
// Exit codes: 0 done; 64 usage; 75 database unreachable; 78 configuration
// (a source that does not exist, a database without a schema).
#include <algorithm>
#include <iostream>

#include "cert_store_files.hpp"
#include "cert_store_postgres.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {
namespace {

const char* const kStoreUsage =
    "usage: sealpost store [options] init\n"
    "       sealpost store [options] migrate --from files:DIR|postgres:URL --to files:DIR|postgres:URL\n\n"
    "Creates the postgres store's schema; copies certificates between stores.\n";

enum class Role { Source, Target };

std::unique_ptr<CertStore> open_spec(const std::string& spec, Role role) {
    auto colon = spec.find(':');
    std::string kind = spec.substr(0, colon == std::string::npos ? 0 : colon);
    std::string where = colon == std::string::npos ? "" : spec.substr(colon + 1);
    if (kind == "files" && !where.empty()) {
        std::error_code ec;
        if (role == Role::Source && !std::filesystem::is_directory(where, ec))
            fail(ErrorKind::Config, "store migrate: " + where + ": no such directory");
        return std::make_unique<FilesCertStore>(where);
    }
    if (kind == "postgres") return std::make_unique<PostgresCertStore>(PostgresStoreOptions{where, role == Role::Target, {}});
    fail(ErrorKind::Usage, "store migrate: '" + spec + "' is not files:DIR or postgres:URL");
}

int migrate(const std::string& from, const std::string& to) {
    auto src = open_spec(from, Role::Source);
    auto dst = open_spec(to, Role::Target);
    std::size_t addresses = 0, copied = 0, present = 0;
    for (const auto& address : src->addresses()) {
        ++addresses;
        auto have = dst->history(address);
        for (const auto& sc : src->history(address)) {  // current first
            bool there = std::any_of(have.begin(), have.end(),
                                     [&](const StoredCertificatePtr& d) { return d->fingerprint == sc->fingerprint; });
            if (there) {
                ++present;
                continue;
            }
            auto r = dst->put(address, sc->cert.get(), sc->meta);
            log()->debug("migrate: {} {}: {}", address, sc->fingerprint, to_string(r.outcome));
            ++copied;
        }
    }
    std::cout << "migrated " << src->describe() << " -> " << dst->describe() << ": " << addresses << " address(es), "
              << copied << " certificate(s) copied, " << present << " already there\n";
    return kExitOk;
}

}  // namespace

int run_store(int argc, char** argv) {
    po::options_description desc("Options");
    add_common_options(desc);
    desc.add_options()
        ("url", po::value<std::string>(), "init: the database ([store] url; default: the PG* environment)")
        ("from", po::value<std::string>(), "migrate: files:DIR or postgres:URL")
        ("to", po::value<std::string>(), "migrate: files:DIR or postgres:URL")
        ("args", po::value<std::vector<std::string>>(), "init | migrate");
    po::positional_options_description pos;
    pos.add("args", -1);

    return guarded("store", [&]() -> int {
        auto vm = parse_command_line(argc, argv, desc, &pos);
        if (vm.count("help")) {
            std::cout << kStoreUsage << "\n" << desc << "\n" << kExitCodeHelp;
            return kExitOk;
        }
        std::vector<std::string> args;
        if (vm.count("args")) args = vm["args"].as<std::vector<std::string>>();
        if (args.size() != 1) fail(ErrorKind::Usage, "store: give init or migrate");
        Config config = load_config(vm);
        flag_to_config(vm, config, "url", "store", "url");
        if (args.front() == "init") {
            PgConnection c(config.get_or("store", "url", ""));
            int before = PostgresCertStore::init_schema(c);
            if (before == PostgresCertStore::kSchemaVersion)
                std::cout << "store init: " << c.describe() << ": schema version " << before << " already there\n";
            else if (before > 0)
                std::cout << "store init: " << c.describe() << ": schema version " << before << " upgraded to "
                          << PostgresCertStore::kSchemaVersion << "\n";
            else
                std::cout << "store init: " << c.describe() << ": schema version " << PostgresCertStore::kSchemaVersion
                          << " created\n";
            return kExitOk;
        }
        if (args.front() == "migrate") {
            if (!vm.count("from") || !vm.count("to")) fail(ErrorKind::Usage, "store migrate needs --from and --to");
            return migrate(vm["from"].as<std::string>(), vm["to"].as<std::string>());
        }
        fail(ErrorKind::Usage, "store: unknown action '" + args.front() + "' (init, migrate)");
    });
}

}  // namespace sealpost
