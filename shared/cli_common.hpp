// cli_common.hpp: what every subcommand shares: the common options
// (--config, --verbose, --quiet, --log-file, --help), reading the config
// file, setting up the log, reporting config warnings, and turning an
// exception into a logged message and an exit code.
#pragma once

#include <boost/program_options.hpp>

#include <functional>
#include <string>
#include <string_view>

#include "config.hpp"

namespace sealpost {

namespace po = boost::program_options;

// Adds --config, --verbose, --quiet, --log-file, --help.
void add_common_options(po::options_description& desc);

// Parses argv against `desc` (positional `files` when given); throws
// Error(Usage) with the parser's message.
po::variables_map parse_command_line(int argc, char** argv, const po::options_description& desc,
                                     const po::positional_options_description* positional = nullptr);

// Loads --config (if any), sets up logging from [log] and the flags,
// logs the config warnings. Flags are applied with `overrides` afterwards
// by the caller through Config::set.
Config load_config(const po::variables_map& vm);

// Copies the value of flag `flag` (if given) into config [section] key.
void flag_to_config(const po::variables_map& vm, Config& config, const char* flag, const char* section,
                    const char* key);

// Runs `body`, mapping exceptions to a logged error and an exit code.
int guarded(const char* command, const std::function<int()>& body);

// The error line guarded() logs: "COMMAND: WHAT", unless WHAT names the
// command already ("certs: ...", "certs list takes ...", "store migrate:
// ..."): never "certs: certs: ...".
std::string command_error(std::string_view command, std::string_view what);

// The exit-code table for --help.
extern const char* const kExitCodeHelp;

}  // namespace sealpost
