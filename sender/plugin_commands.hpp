// plugin_commands.hpp: subcommands that plugins offer (`sealpost collect`
// is the collector plugin's). The host knows which plugin offers which
// command, loads it with the same loader and ABI check as `serve`, and runs
// the command through the plugin boundary; a build or installation without
// the plugin has no such command and says so (exit 69).
#pragma once

#include <filesystem>
#include <string_view>

namespace sealpost {

struct PluginCommandEntry {
    const char* command;
    const char* plugin;
    const char* summary;
};

inline constexpr PluginCommandEntry kPluginCommands[] = {
    {"collect", "collector", "verify signed mail and store the signer's certificate (collector plugin)"},
};

// Where the plugins of this binary are: <binary>/../lib/sealpost when it
// exists (the installed layout, /usr/lib/sealpost), else <binary>/../lib.
std::filesystem::path default_plugin_dir();

// Loads the plugin that offers `entry.command` and runs it; returns its exit code.
int run_plugin_command(const PluginCommandEntry& entry, int argc, char** argv);

}  // namespace sealpost
