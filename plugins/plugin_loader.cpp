// plugin_loader.cpp: Boost.DLL loading with ABI check.
#include "plugin_loader.hpp"

#include <boost/dll/import.hpp>

#include "errors.hpp"
#include "log.hpp"

namespace sealpost {

std::filesystem::path plugin_file(const std::filesystem::path& dir, const std::string& name) {
    return dir / ("libsealpost_" + name + "_plugin.so");
}

LoadedPlugin load_plugin(const std::filesystem::path& dir, const std::string& name) {
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
            fail(ErrorKind::Config, "plugins: '" + name + "' is not a plugin name (letters, digits, '-', '_')");
    LoadedPlugin lp;
    lp.name = name;
    lp.file = plugin_file(dir, name);
    if (!std::filesystem::exists(lp.file))
        fail(ErrorKind::Config, "plugin " + name + ": no file " + lp.file.string() + " (check [plugins] dir)");
    try {
        lp.library = std::make_shared<boost::dll::shared_library>(
            boost::dll::fs::path(lp.file.string()), boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        fail(ErrorKind::Config, "plugin " + name + ": cannot load " + lp.file.string() + ": " + e.what());
    }
    if (!lp.library->has("sealpost_plugin_abi"))
        fail(ErrorKind::Config, "plugin " + name + ": " + lp.file.string() + " has no symbol sealpost_plugin_abi (not a sealpost plugin)");
    int abi = lp.library->get<const int>("sealpost_plugin_abi");
    if (abi != kPluginAbiVersion)
        fail(ErrorKind::Config, "plugin " + name + ": ABI version mismatch: plugin has " + std::to_string(abi) +
                                    ", host needs " + std::to_string(kPluginAbiVersion) + " (rebuild the plugin)");
    if (!lp.library->has("sealpost_plugin_create"))
        fail(ErrorKind::Config, "plugin " + name + ": " + lp.file.string() + " has no symbol sealpost_plugin_create");
    auto& create = lp.library->get_alias<PluginFactory>("sealpost_plugin_create");
    try {
        lp.plugin = create();
    } catch (const std::exception& e) {
        fail(ErrorKind::Internal, "plugin " + name + ": factory failed: " + e.what());
    }
    if (!lp.plugin) fail(ErrorKind::Internal, "plugin " + name + ": factory returned nothing");
    log()->info("plugins: loaded {} from {}", lp.plugin->name(), lp.file.string());
    return lp;
}

std::vector<LoadedPlugin> load_plugins(const Config& config, const std::filesystem::path& default_dir) {
    std::vector<LoadedPlugin> out;
    std::filesystem::path dir = config.get_or("plugins", "dir", default_dir.string());
    std::string list = config.get_or("plugins", "load", "");
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) out.push_back(load_plugin(dir, item));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

void start_plugins(std::vector<LoadedPlugin>& plugins, Host& host) {
    for (std::size_t i = 0; i < plugins.size(); ++i) {
        try {
            plugins[i].plugin->start(host);
            log()->info("plugins: started {}", plugins[i].name);
        } catch (const Error& e) {
            // A typed error keeps its category: a bad [collector] setting is a
            // configuration error (78) here exactly as in `sealpost collect`.
            for (std::size_t k = i; k-- > 0;) plugins[k].plugin->stop();
            fail(e.kind(), "plugin " + plugins[i].name + ": start failed: " + e.what());
        } catch (const std::exception& e) {
            for (std::size_t k = i; k-- > 0;) plugins[k].plugin->stop();
            fail(ErrorKind::Internal, "plugin " + plugins[i].name + ": start failed: " + e.what());
        }
    }
}

void stop_plugins(std::vector<LoadedPlugin>& plugins) {
    for (auto it = plugins.rbegin(); it != plugins.rend(); ++it) {
        try {
            it->plugin->stop();
            log()->info("plugins: stopped {}", it->name);
        } catch (const std::exception& e) {
            log()->error("plugins: {}: stop failed: {}", it->name, e.what());
        }
    }
}

}  // namespace sealpost
