// cmd_certs.cpp: `sealpost certs list|show ADDRESS|check ADDRESS...`: a look
// into the certificate store the collector fills and the sender reads.
//   list   one line per address: address, fingerprint, expiry, source
//   show   the certificate (description and PEM) and its recorded evidence
//   check  can we encrypt to each address at --at/now, and if not, why
//          (profile rules, cached revocation status: recipient_cert.hpp)
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
#include "cli_common.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "duration.hpp"
#include "kept_chain.hpp"
#include "log.hpp"
#include "recipient_cert.hpp"
#include "revocation_check.hpp"
#include "store_location.hpp"

namespace sealpost {
namespace {

const char* const kCertsUsage =
    "usage: sealpost certs [options] list\n"
    "       sealpost certs [options] show ADDRESS\n"
    "       sealpost certs [options] check ADDRESS...\n"
    "       sealpost certs [options] refresh\n\n"
    "Lists, shows and checks the collected recipient certificates.\n";

std::unique_ptr<CertStore> open_store(const Config& config) {
    auto store = open_configured_store(config, StoreAccess::ReadExisting);
    if (!store) fail(ErrorKind::Config, "config: no certificate store: set --store DIR or [store] dir");
    return store;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

// --expiring: nullopt = every certificate; else only those whose notAfter
// falls before `*expiring_before`.
int list(const CertStore& store, std::optional<std::time_t> expiring_before) {
    for (const auto& address : store.addresses()) {
        auto sc = store.get(address);
        if (!sc) {
            std::cout << address << "\tunreadable\n";
            continue;
        }
        if (expiring_before && not_after(sc->cert.get()) >= *expiring_before) continue;
        std::cout << address << "\t" << sc->fingerprint << "\t" << format_time(not_after(sc->cert.get())) << "\t"
                  << or_dash(sc->meta.source) << "\t"
                  << (sc->meta.collected_at ? format_time(*sc->meta.collected_at) : "-") << "\n";
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
        auto chain = kept_chain(store.dir(), sc->cert.get());
        if (chain.empty()) chain.push_back(x509_ref(sc->cert.get()));
        auto status = check_chain_revocation(store.dir(), chain, revocation, Fetch::CacheOnly, std::time(nullptr));
        const bool say_stale = !status.fresh && status.state != RevocationState::Revoked;
        std::cout << "revocation: " << to_string(status.state) << (say_stale ? " (not fresh)" : "") << ": "
                  << status.evidence << "\n";
    }
    std::cout
              << "evidence: " << (sc->meta.recorded ? metadata_to_json_text(sc->meta) : "none recorded\n")
              << certificate_pem(sc->cert.get());
    return kExitOk;
}

int check(const CertStore& store, const std::vector<std::string>& addresses, std::time_t at,
          const RevocationOptions& revocation, std::optional<std::time_t> expiring_before) {
    int rc = kExitOk;
    for (const auto& a : addresses) {
        std::string address;
        try {
            address = normalise_address(a);
            if (auto why = unsafe_file_name_reason(address)) fail(ErrorKind::Input, *why);
        } catch (const Error& e) {
            std::cout << printable(a, 100) << ": cannot encrypt: not a usable address (" << e.what() << ")\n";
            rc = kExitDataErr;
            continue;
        }
        auto usable = usable_recipient_certificate(store, address, at, &revocation);
        if (usable.cert && expiring_before && not_after(usable.cert->cert.get()) < *expiring_before) {
            std::cout << address << ": expiring sha256=" << usable.cert->fingerprint << " expires "
                      << format_time(not_after(usable.cert->cert.get())) << "\n";
            rc = kExitDataErr;
        } else if (usable.cert) {
            std::cout << address << ": ok sha256=" << usable.cert->fingerprint << " expires "
                      << format_time(not_after(usable.cert->cert.get()))
                      << (usable.reason.empty() ? "" : " (" + usable.reason + ")") << "\n";
        } else {
            std::cout << address << ": cannot encrypt: " << usable.reason << "\n";
            rc = kExitDataErr;
        }
    }
    return rc;
}

// Fresh revocation information for every stored certificate, now.
int refresh(const CertStore& store, const RevocationOptions& revocation) {
    if (revocation.mode == RevocationMode::Off) {
        std::cout << "revocation mode is off: nothing to refresh\n";
        return kExitOk;
    }
    int rc = kExitOk;
    const std::time_t now = std::time(nullptr);
    for (const auto& address : store.addresses()) {
        auto sc = store.get(address);
        if (!sc) continue;
        auto chain = kept_chain(store.dir(), sc->cert.get());
        if (chain.empty()) chain.push_back(x509_ref(sc->cert.get()));
        RevocationStatus status = check_chain_revocation(store.dir(), chain, revocation, Fetch::Always, now);
        const bool say_stale = !status.fresh && status.state != RevocationState::Revoked;
        std::cout << address << ": " << to_string(status.state) << (say_stale ? " (not fresh)" : "") << ": "
                  << status.evidence << "\n";
        if (status.state == RevocationState::Revoked) {
            log()->warn("certs refresh: {} sha256={} is revoked: {}", address, sc->fingerprint, status.evidence);
            if (rc == kExitOk) rc = kExitDataErr;
        } else if (!status.fresh) {
            log()->warn("certs refresh: {} sha256={}: no fresh revocation information: {}", address, sc->fingerprint,
                        status.evidence);
            if (rc == kExitOk) rc = kExitTempFail;
        }
    }
    return rc;
}

}  // namespace

int run_certs(int argc, char** argv) {
    po::options_description desc("Options");
    add_common_options(desc);
    desc.add_options()
        ("store", po::value<std::string>(), "certificate store directory ([store] dir)")
        ("at", po::value<std::string>(), "check: judge at this ISO 8601 time instead of now")
        ("expiring", po::value<std::string>(), "list, check: only certificates expiring within this time (30d, 12h)")
        ("args", po::value<std::vector<std::string>>(), "list | show ADDRESS | check ADDRESS...");
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
            return list(*open_store(config), expiring_before);
        }
        if (action == "refresh") {
            if (!args.empty()) fail(ErrorKind::Usage, "certs refresh takes no address");
            return refresh(*open_store(config), revocation);
        }
        if (action == "show") {
            if (args.size() != 1) fail(ErrorKind::Usage, "certs show takes exactly one ADDRESS");
            return show(*open_store(config), args.front(), revocation);
        }
        if (action == "check") {
            if (args.empty()) fail(ErrorKind::Usage, "certs check takes one or more ADDRESS");
            return check(*open_store(config), args, at, revocation, expiring_before);
        }
        fail(ErrorKind::Usage, "certs: unknown action '" + action + "' (list, show, check, refresh)");
    });
}

}  // namespace sealpost
