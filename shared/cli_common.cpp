// cli_common.cpp: shared option handling for the subcommands.
#include "cli_common.hpp"

#include <iostream>

#include "errors.hpp"
#include "log.hpp"

namespace sealpost {

const char* const kExitCodeHelp =
    "Exit codes:\n"
    "  0   done\n"
    "  64  usage error (bad command line)\n"
    "  65  bad input message, or a message rejected\n"
    "  66  input file missing\n"
    "  69  permanent delivery failure (5xx, API 4xx)\n"
    "  70  internal error\n"
    "  73  cannot create output: the outbox (--out-dir) is not writable\n"
    "  75  temporary failure: retry later (4xx, connection failure, disk full)\n"
    "  77  key file permissions (chmod 600 the private key)\n"
    "  78  configuration error\n";

void add_common_options(po::options_description& desc) {
    desc.add_options()
        ("help,h", "show this help")
        ("config,c", po::value<std::string>(), "configuration file (INI)")
        ("verbose,v", "log debug detail on stderr")
        ("quiet,q", "log only warnings and errors on stderr")
        ("log-file", po::value<std::string>(), "also log to a dated file: FILE=dir/sealpost.log writes dir/sealpost_YYYY-MM-DD.log (a new one each day, 10 kept)");
}

po::variables_map parse_command_line(int argc, char** argv, const po::options_description& desc,
                                     const po::positional_options_description* positional) {
    po::variables_map vm;
    try {
        auto parser = po::command_line_parser(argc, argv).options(desc);
        if (positional) parser.positional(*positional);
        po::store(parser.run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        fail(ErrorKind::Usage, std::string(e.what()) + " (see --help)");
    }
    return vm;
}

void flag_to_config(const po::variables_map& vm, Config& config, const char* flag, const char* section,
                    const char* key) {
    if (vm.count(flag)) config.set(section, key, vm[flag].as<std::string>());
}

Config load_config(const po::variables_map& vm) {
    Config config;
    if (vm.count("config")) config = Config::load(vm["config"].as<std::string>());
    flag_to_config(vm, config, "log-file", "log", "file");
    LogOptions lo;
    lo.file = config.get_or("log", "file", "");
    lo.level = config.get_or("log", "level", "info");
    lo.verbose = vm.count("verbose") > 0;
    lo.quiet = vm.count("quiet") > 0;
    setup_logging(lo);
    return config;
}

std::string command_error(std::string_view command, std::string_view what) {
    bool named = what.size() > command.size() && what.compare(0, command.size(), command) == 0 &&
                 (what[command.size()] == ':' || what[command.size()] == ' ');
    return named ? std::string(what) : std::string(command) + ": " + std::string(what);
}

int guarded(const char* command, const std::function<int()>& body) {
    try {
        return body();
    } catch (const Error& e) {
        log()->error("{}", command_error(command, e.what()));
        return e.exit_code();
    } catch (const std::exception& e) {
        log()->critical("{}: internal error: {}", command, e.what());
        return kExitSoftware;
    }
}

}  // namespace sealpost
