// plugin_loader.hpp: loads the plugins named in `[plugins] load` from
// `[plugins] dir` (file `libsealpost_<name>_plugin.so`) with Boost.DLL.
// A missing file, a missing symbol or an ABI mismatch is Error(Config)
// (exit 78) naming the file and the reason; a plugin whose start() throws
// a sealpost::Error keeps that error's category (a bad setting: Config, 78),
// anything else it throws is Error(Internal) (exit 70). Keeps each library
// loaded for as long as its plugin object lives.
#pragma once

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "plugin_api.hpp"

namespace sealpost {

struct LoadedPlugin {
    std::string name;
    std::filesystem::path file;
    std::shared_ptr<boost::dll::shared_library> library;  // declared first: destroyed last
    std::shared_ptr<Plugin> plugin;
};

std::filesystem::path plugin_file(const std::filesystem::path& dir, const std::string& name);

LoadedPlugin load_plugin(const std::filesystem::path& dir, const std::string& name);

// Loads every plugin in `[plugins] load` (comma-separated).
std::vector<LoadedPlugin> load_plugins(const Config& config, const std::filesystem::path& default_dir);

// start() each plugin in order; on a throw, stops the ones already started
// and throws an Error naming the plugin (the thrown Error's kind, else Internal).
void start_plugins(std::vector<LoadedPlugin>& plugins, Host& host);
void stop_plugins(std::vector<LoadedPlugin>& plugins);

}  // namespace sealpost
