// plugin_commands.cpp: load the plugin, find its command, run it.
#include "plugin_commands.hpp"

#include <boost/dll/runtime_symbol_info.hpp>

#include <iostream>

#include "errors.hpp"
#include "plugin_loader.hpp"

namespace sealpost {

std::filesystem::path default_plugin_dir() {
    auto exe_dir = std::filesystem::path(boost::dll::program_location().parent_path().string());
    // Installed: /usr/bin/sealpost, plugins in /usr/lib/sealpost; build tree: bin/, lib/.
    auto installed = (exe_dir / ".." / "lib" / "sealpost").lexically_normal();
    if (std::filesystem::is_directory(installed)) return installed;
    return (exe_dir / ".." / "lib").lexically_normal();
}

int run_plugin_command(const PluginCommandEntry& entry, int argc, char** argv) {
    const auto dir = default_plugin_dir();
    if (!std::filesystem::exists(plugin_file(dir, entry.plugin))) {
        std::cerr << "sealpost " << entry.command << ": this installation has no " << entry.plugin << " plugin ("
                  << plugin_file(dir, entry.plugin).string() << " is missing; built with -DSEALPOST_COLLECTOR=OFF?)\n";
        return kExitUnavailable;
    }
    LoadedPlugin loaded;
    try {
        loaded = load_plugin(dir, entry.plugin);
    } catch (const Error& e) {
        std::cerr << "sealpost " << entry.command << ": " << e.what() << "\n";
        return e.exit_code();
    }
    for (const auto& command : loaded.plugin->commands())
        if (command.name == entry.command) return command.run(argc, argv);
    std::cerr << "sealpost " << entry.command << ": plugin " << entry.plugin << " offers no command '"
              << entry.command << "'\n";
    return kExitUnavailable;
}

}  // namespace sealpost
