// collect_command.hpp: `sealpost collect`, the collector plugin's command:
// the command-line twin of the webhook. The host runs it through the plugin
// boundary (PluginCommand), never by linking the collector.
#pragma once

namespace sealpost {

// argv[0] is "collect". Returns a sysexits exit code.
int run_collect_command(int argc, char** argv);

}  // namespace sealpost
