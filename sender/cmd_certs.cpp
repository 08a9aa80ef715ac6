// cmd_certs.cpp: `sealpost certs list|show ADDRESS|history ADDRESS|check
// ADDRESS...`: a look into the certificate store the collector fills and the
// sender reads, whichever backend ([store] backend) holds it.
//   list   a header, then one line per address: address, fingerprint,
//          expiry, source, collected, status at --at/now (expired marked)
//   history every certificate kept for an address, with its status
//   show   the certificate (description and PEM) and its recorded evidence
//   check  can we encrypt to each address at --at/now, and if not, why
//          (recipient_status: the same answer as the admin API's /v1/recipients:
//          store, profile rules, cached revocation status)
//   refresh  fetch fresh revocation information (CRL/OCSP) for every
//          stored certificate now, whatever the cache holds (for cron)
//   list/check --expiring 30d: only certificates that expire within 30 days
// Exit codes: 0 done (check: every address can be encrypted to); 65 check:
// some address cannot; refresh: some certificate is revoked; 75 refresh:
// some information could not be had; 66 show: nothing stored; 64 usage;
// 78 configuration.
#include <iostream>

#include "address.hpp"
#include "cert_info.hpp"
#include "cert_store.hpp"
#include "certs_report.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "duration.hpp"
#include "kept_chain.hpp"
#include "log.hpp"
#include "recipient_status.hpp"
#include "revocation_check.hpp"
#include "revocation_refresh.hpp"
#include "store_location.hpp"

namespace sealpost {
namespace {

const char* const kCertsUsage =
    "usage: sealpost certs [options] list\n"
    "       sealpost certs [options] show ADDRESS\n"
    "       sealpost certs [options] history ADDRESS\n"
    "       sealpost certs [options] check ADDRESS...\n"
    "       sealpost certs [options] refresh\n"
    "       sealpost certs [options] report\n\n"
    "Lists, shows and checks the collected recipient certificates.\n";

std::unique_ptr<CertStore> open_store(const Config& config) {
    auto store = open_configured_store(config, StoreAccess::ReadExisting);
    if (!store) fail(ErrorKind::Config, "config: no certificate store: set --store DIR or [store] dir");
    return store;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

// A header line (a comment: '#'), then one tab-separated line per address;
// the last column is the current certificate's status at `now` (--at):
// current, expired or revoked.
constexpr const char* kListHeader = "# address\tsha256\tnot-after\tsource\tcollected\tstatus\n";

// --expiring: nullopt = every certificate; else only those whose notAfter
// falls before `*expiring_before`.
int list(const CertStore& store, std::time_t now, std::optional<std::time_t> expiring_before) {
    std::cout << kListHeader;
    for (const auto& address : store.addresses()) {
        auto sc = store.get(address);
        if (!sc) {
            std::cout << address << "\tunreadable\n";
            continue;
        }
        if (expiring_before && not_after(sc->cert.get()) >= *expiring_before) continue;
        std::cout << address << "\t" << sc->fingerprint << "\t" << format_time(not_after(sc->cert.get())) << "\t"
                  << or_dash(sc->meta.source) << "\t"
                  << (sc->meta.collected_at ? format_time(*sc->meta.collected_at) : "-") << "\t"
                  << to_string(status_at(*sc, now)) << "\n";
    }
    return kExitOk;
}

int show(const CertStore& store, const std::string& address, const RevocationOptions& revocation) {
    auto sc = store.get(address);
    if (!sc) {
        std::cout << normalise_address(address) << ": no certificate collected\n";
        return kExitNoInput;
    }
    std::cout << "address: " << sc->address << "\n"
              << "fingerprint: " << sc->fingerprint << "\n"
              << "certificate: " << describe_certificate(sc->cert.get()) << "\n";
    if (revocation.mode != RevocationMode::Off) {
        auto chain = kept_chain(*sc);
        if (chain.empty()) chain.push_back(x509_ref(sc->cert.get()));
        auto status = check_chain_revocation(store.cache_dir(), chain, revocation, Fetch::CacheOnly, std::time(nullptr));
        const bool say_stale = !status.fresh && status.state != RevocationState::Revoked;
        std::cout << "revocation: " << to_string(status.state) << (say_stale ? " (not fresh)" : "") << ": "
                  << status.evidence << "\n";
    }
    std::cout
              << "evidence: " << (sc->meta.recorded ? metadata_to_json_text(sc->meta) : "none recorded\n")
              << certificate_pem(sc->cert.get());
    return kExitOk;
}

int history(const CertStore& store, const std::string& address, std::time_t now) {
    auto all = store.history(address);
    if (all.empty()) {
        std::cout << normalise_address(address) << ": no certificate collected\n";
        return kExitNoInput;
    }
    for (const auto& sc : all)
        std::cout << sc->address << "\t" << sc->fingerprint << "\t" << to_string(status_at(*sc, now)) << "\t"
                  << format_time(not_after(sc->cert.get())) << "\t" << or_dash(sc->meta.source) << "\t"
                  << (sc->meta.collected_at ? format_time(*sc->meta.collected_at) : "-") << "\n";
    return kExitOk;
}

int check(const CertStore& store, const std::vector<std::string>& addresses, std::time_t at,
          const RevocationOptions& revocation, std::optional<std::time_t> expiring_before) {
    int rc = kExitOk;
    // The same answer as the admin API's GET /v1/recipients/{address}.
    for (const auto& a : addresses) {
        auto s = recipient_status(store, a, at, "", &revocation);
        if (s.can_encrypt() && expiring_before && not_after(s.cert->cert.get()) < *expiring_before) {
            std::cout << s.address << ": expiring sha256=" << s.cert->fingerprint << " expires "
                      << format_time(not_after(s.cert->cert.get())) << "\n";
            rc = kExitDataErr;
        } else if (s.can_encrypt()) {
            std::cout << s.address << ": ok sha256=" << s.cert->fingerprint << " expires "
                      << format_time(not_after(s.cert->cert.get()))
                      << (s.reason_text.empty() ? "" : " (" + s.reason_text + ")") << "\n";
        } else {
            std::cout << s.address << ": cannot encrypt: " << s.reason_text << " [" << to_string(s.reason) << "]\n";
            rc = kExitDataErr;
        }
    }
    return rc;
}

// Fresh revocation information for every stored certificate, now; a
// revoked one is marked in the store (never encrypted to again).
int refresh(CertStore& store, const RevocationOptions& revocation) {
    if (revocation.mode == RevocationMode::Off) {
        std::cout << "revocation mode is off: nothing to refresh\n";
        return kExitOk;
    }
    auto summary = refresh_revocation(store, revocation, Fetch::Always, std::time(nullptr),
                                      [](const StoredCertificate& sc, const RevocationStatus& status) {
                                          const bool stale = !status.fresh && status.state != RevocationState::Revoked;
                                          std::cout << sc.address << ": " << to_string(status.state)
                                                    << (stale ? " (not fresh)" : "") << ": " << status.evidence << "\n";
                                      });
    std::cout << "refreshed: " << summary.good << " good, " << summary.revoked << " revoked, " << summary.unknown
              << " without fresh information\n";
    if (summary.revoked) return kExitDataErr;
    if (summary.unknown) return kExitTempFail;
    return kExitOk;
}

}  // namespace

int run_certs(int argc, char** argv) {
    po::options_description desc("Options");
    add_common_options(desc);
    desc.add_options()
        ("store", po::value<std::string>(), "certificate store directory ([store] dir)")
        ("at", po::value<std::string>(), "list, history, check: judge at this ISO 8601 time instead of now")
        ("expiring", po::value<std::string>(), "list, check: only certificates expiring within this time (30d, 12h)")
        ("args", po::value<std::vector<std::string>>(), "list | show ADDRESS | history ADDRESS | check ADDRESS... | refresh");
    po::positional_options_description pos;
    pos.add("args", -1);

    return guarded("certs", [&]() -> int {
        auto vm = parse_command_line(argc, argv, desc, &pos);
        if (vm.count("help")) {
            std::cout << kCertsUsage << "\n" << desc << "\n" << kExitCodeHelp;
            return kExitOk;
        }
        std::vector<std::string> args;
        if (vm.count("args")) args = vm["args"].as<std::vector<std::string>>();
        if (args.empty()) fail(ErrorKind::Usage, "certs: give list, show ADDRESS or check ADDRESS...");
        const std::string action = args.front();
        args.erase(args.begin());
        Config config = load_config(vm);
        flag_to_config(vm, config, "store", "store", "dir");
        std::time_t at = std::time(nullptr);
        if (vm.count("at")) {
            auto t = parse_iso_time(vm["at"].as<std::string>());
            if (!t) fail(ErrorKind::Usage, "certs: --at '" + vm["at"].as<std::string>() + "' is not an ISO 8601 time");
            at = *t;
        }
        std::optional<std::time_t> expiring_before;
        if (vm.count("expiring")) {
            auto d = parse_duration_seconds(vm["expiring"].as<std::string>());
            if (!d)
                fail(ErrorKind::Usage,
                     "certs: --expiring '" + vm["expiring"].as<std::string>() + "' is not a duration (30d, 12h)");
            expiring_before = at + static_cast<std::time_t>(*d);
        }
        const RevocationOptions revocation = RevocationOptions::from_config(config);
        if (action == "list") {
            if (!args.empty()) fail(ErrorKind::Usage, "certs list takes no address");
            return list(*open_store(config), at, expiring_before);
        }
        if (action == "refresh") {
            if (!args.empty()) fail(ErrorKind::Usage, "certs refresh takes no address");
            return refresh(*open_store(config), revocation);
        }
        if (action == "show") {
            if (args.size() != 1) fail(ErrorKind::Usage, "certs show takes exactly one ADDRESS");
            return show(*open_store(config), args.front(), revocation);
        }
        if (action == "history") {
            if (args.size() != 1) fail(ErrorKind::Usage, "certs history takes exactly one ADDRESS");
            return history(*open_store(config), args.front(), at);
        }
        if (action == "check") {
            if (args.empty()) fail(ErrorKind::Usage, "certs check takes one or more ADDRESS");
            return check(*open_store(config), args, at, revocation, expiring_before);
        }
        if (action == "report") {  // issue 13: counts and lists by state (certs_report.hpp)
            if (!args.empty()) fail(ErrorKind::Usage, "certs report takes no address");
            return certs_report(*open_store(config), config, at, std::cout);
        }
        fail(ErrorKind::Usage, "certs: unknown action '" + action + "' (list, show, history, check, refresh, report)");
    });
}

}  // namespace sealpost
