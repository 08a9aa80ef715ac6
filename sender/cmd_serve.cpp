// cmd_serve.cpp: `sealpost serve --config FILE`: one process hosting the
// SMTP listener (sign, auto-encrypt, relay) and the plugins (the collector).
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "plugin_commands.hpp"
#include "serve/serve_host.hpp"

namespace sealpost {

int run_serve(int argc, char** argv) {
    po::options_description desc("Options");
    add_common_options(desc);
    desc.add_options()
        ("listen", po::value<std::string>(), "SMTP listen address ([serve] listen, default 127.0.0.1:2525)")
        ("store", po::value<std::string>(), "certificate store directory ([store] dir)")
        ("keys", po::value<std::string>(), "signing identities directory ([sender] keys-dir)")
        ("out-dir", po::value<std::string>(), "relay to this outbox ([relay] out-dir)")
        ("smtp", po::value<std::string>(), "relay over SMTP ([relay] smtp)")
        ("api", po::value<std::string>(), "relay to the transmissions API ([relay] api)")
        ("plugins-dir", po::value<std::string>(), "where plugins are ([plugins] dir)")
        ("load", po::value<std::string>(), "plugins to load, comma-separated ([plugins] load)")
        ("threads", po::value<std::string>(), "io and worker threads ([serve] threads)")
        ("admin-listen", po::value<std::string>(),
         "admin API and /metrics address ([admin] listen, default 127.0.0.1:9855; empty = off; token: [admin] token)");
    return guarded("serve", [&]() -> int {
        auto vm = parse_command_line(argc, argv, desc);
        if (vm.count("help")) {
            std::cout << "usage: sealpost serve --config FILE [options]\n\n"
                         "Accepts mail over SMTP, signs and encrypts it like `send`, relays it through the\n"
                         "configured transport, and hosts plugins (the collector webhook) in the same process,\n"
                         "sharing one certificate store; an admin listener answers /metrics and /v1/ (README).\n"
                         "SIGTERM/SIGINT: finish and exit 0 (sessions still open\n"
                         "after [serve] shutdown-timeout, default 30 s, get 421); SIGHUP: reopen log.\n"
                         "Only CRLF.CRLF ends DATA (a bare LF or CR in DATA: 554, connection closed); at most\n"
                         "[serve] max-connections sessions (default 512; more: 421). Recipients the upstream\n"
                         "refuses after others were accepted get the envelope sender a DSN (never for <>).\n\n"
                      << desc << "\n" << kExitCodeHelp;
            return 0;
        }
        Config config = load_config(vm);
        flag_to_config(vm, config, "listen", "serve", "listen");
        flag_to_config(vm, config, "store", "store", "dir");
        flag_to_config(vm, config, "keys", "sender", "keys-dir");
        flag_to_config(vm, config, "out-dir", "relay", "out-dir");
        flag_to_config(vm, config, "smtp", "relay", "smtp");
        flag_to_config(vm, config, "api", "relay", "api");
        flag_to_config(vm, config, "plugins-dir", "plugins", "dir");
        flag_to_config(vm, config, "load", "plugins", "load");
        flag_to_config(vm, config, "threads", "serve", "threads");
        flag_to_config(vm, config, "admin-listen", "admin", "listen");
        ServeHost host(std::move(config), default_plugin_dir());
        return host.run();
    });
}

}  // namespace sealpost
