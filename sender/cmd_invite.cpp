// cmd_invite.cpp: `sealpost invite [--dry-run] [--limit N]` (issue 13):
// sends the invitations that are due (Inviter: the ledger's wanted
// addresses, expiring and revoked certificates; interval and max-per-day
// claimed in the store) through the configured transport, and prints one
// line per address. For `send` users, from cron; `serve` does the same in
// the background. Exit codes: 0 done (also when nothing was due), 69/75 an
// invitation was refused/deferred (it is due again at the next run), 78
// configuration ([invite] enabled = no, a broken template, no identity).
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "invitations.hpp"
#include "log.hpp"
#include "send_pipeline.hpp"
#include "store_location.hpp"

namespace sealpost {
namespace {

const char* const kInviteUsage =
    "usage: sealpost invite [options]\n\n"
    "Sends the invitations that are due: to every address that got mail not\n"
    "encrypted for want of a certificate ([invite] enabled = yes in send/serve\n"
    "records them), and a renewal invitation to every address whose certificate\n"
    "expires within [invite] renew-before or was revoked. Never more often per\n"
    "address than [invite] interval, never more than [invite] max-per-day, never\n"
    "to [invite] exclude. Prints one line per invitation.\n";

}  // namespace

int run_invite(int argc, char** argv) {
    po::options_description desc("Options");
    add_common_options(desc);
    desc.add_options()
        ("store", po::value<std::string>(), "certificate store directory ([store] dir)")
        ("keys", po::value<std::string>(), "signing identities directory ([sender] keys-dir)")
        ("out-dir", po::value<std::string>(), "write each invitation into this outbox ([relay] out-dir)")
        ("smtp", po::value<std::string>(), "inject over SMTP ([relay] smtp)")
        ("dry-run", "list what would be sent; send nothing, record nothing")
        ("limit", po::value<long long>(), "send at most N invitations in this run");

    return guarded("invite", [&]() -> int {
        auto vm = parse_command_line(argc, argv, desc, nullptr);
        if (vm.count("help")) {
            std::cout << kInviteUsage << "\n" << desc << "\n" << kExitCodeHelp;
            return kExitOk;
        }
        Config config = load_config(vm);
        flag_to_config(vm, config, "store", "store", "dir");
        flag_to_config(vm, config, "keys", "sender", "keys-dir");
        flag_to_config(vm, config, "out-dir", "relay", "out-dir");
        flag_to_config(vm, config, "smtp", "relay", "smtp");
        long long limit = vm.count("limit") ? vm["limit"].as<long long>() : 0;
        if (limit < 0) fail(ErrorKind::Usage, "--limit must be 0 or more");
        bool dry_run = vm.count("dry-run") > 0;

        InviteOptions options = InviteOptions::from_config(config);
        if (!options.enabled) fail(ErrorKind::Config, "invite: [invite] enabled is not yes: nothing to do");
        auto store = open_configured_store(config, StoreAccess::ReadExisting);
        if (!store) fail(ErrorKind::Config, "invite: no certificate store: set --store DIR or [store] dir");
        SendOptions send_options = SendOptions::from_config(config);
        send_options.sign = SignMode::Detached;
        auto identities = open_signing_identities(config, send_options);
        Inviter inviter(options, send_options.policy, *store, *identities);
        auto transport = make_transport(config);
        if (!dry_run && std::string(transport->name()) == "stdout")
            fail(ErrorKind::Config, "invite: no transport: set [relay] out-dir, smtp or api (or --out-dir, --smtp)");

        auto report = inviter.run(*transport, std::time(nullptr), dry_run, limit);
        transport->finish_batch();
        for (const auto& line : report.lines) std::cout << line << "\n";
        log()->info("invite: {} {}, {} failed, {} not due yet{}", report.sent, dry_run ? "would be sent" : "sent",
                    report.failed, report.not_due, report.daily_limit ? ", max-per-day reached" : "");
        return report.exit_code;
    });
}

}  // namespace sealpost
