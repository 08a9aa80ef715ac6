// main.cpp: `sealpost SUBCOMMAND ...`: dispatch to the subcommands.
#include <cstring>
#include <iostream>
#include <string_view>

#include "commands.hpp"
#include "errors.hpp"
#include "plugin_commands.hpp"

namespace {

struct Subcommand {
    const char* name;
    int (*run)(int, char**);
    const char* summary;
};

constexpr Subcommand kSubcommands[] = {
    {"send", sealpost::run_send, "sign and encrypt mail, then write or inject it"},
    {"show", sealpost::run_show, "print a message's headers and MIME/S-MIME structure"},
    {"certs", sealpost::run_certs, "list, show and check collected certificates"},
    {"store", sealpost::run_store, "create the postgres store's schema; migrate between stores"},
    {"invite", sealpost::run_invite, "send due invitations to recipients without a certificate, renewals"},
    {"serve", sealpost::run_serve, "run the SMTP listener and the collector plugin in one process"},
};

void usage(std::ostream& out) {
    out << "usage: sealpost COMMAND [options] ...\n\ncommands:\n";
    for (const auto& s : kSubcommands) out << "  " << s.name << std::string(10 - std::strlen(s.name), ' ') << s.summary << "\n";
    for (const auto& p : sealpost::kPluginCommands)
        out << "  " << p.command << std::string(10 - std::strlen(p.command), ' ') << p.summary << "\n";
    out << "\n`sealpost COMMAND --help` describes each command.\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(std::cerr);
        return sealpost::kExitUsage;
    }
    std::string_view cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        usage(std::cout);
        return 0;
    }
    if (cmd == "--version") {
        std::cout << "sealpost " << SEALPOST_VERSION << "\n";
        return 0;
    }
    for (const auto& s : kSubcommands)
        if (cmd == s.name) return s.run(argc - 1, argv + 1);
    for (const auto& p : sealpost::kPluginCommands)
        if (cmd == p.command) return sealpost::run_plugin_command(p, argc - 1, argv + 1);
    std::cerr << "sealpost: unknown command '" << cmd << "'\n";
    usage(std::cerr);
    return sealpost::kExitUsage;
}
