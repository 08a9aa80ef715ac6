// plugin_api.hpp: the boundary between the host program `sealpost` and the
// plugins it loads with Boost.DLL (the collector is one). The host reaches a
// plugin only through this contract: as a service inside `serve` (start/stop
// on the host's event loop) and as command-line subcommands (`sealpost
// collect` runs the collector plugin's command). Nothing of the host includes
// a plugin's headers or links its libraries.
//
// A plugin is a shared object that exports two symbols:
//   sealpost_plugin_abi   an int equal to kPluginAbiVersion (checked first)
//   sealpost_plugin_create  a Boost.DLL alias of a function returning
//                           std::shared_ptr<sealpost::Plugin>
// (see SEALPOST_PLUGIN below). Host and plugins link libsealpost_core.so,
// so the CertStore and the logger the host hands over are the very objects
// the host itself uses: one store per process.
//
// Lifecycle in `serve`: create, start(host) once (may throw: the host exits
// 70, or 78 for an Error(Config)), the plugin runs on the host's io_context
// threads, stop() once at shutdown (must let in-flight work finish and
// return; must not throw). As a command: create, then one of commands()'s
// `run` is called on the main thread; start/stop are not called.
// Work that blocks (crypto, DNS, fsync) goes to workers(), never the io
// threads.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/config.hpp>
#include <boost/dll/alias.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cert_store.hpp"
#include "config.hpp"

namespace sealpost {

// Bump on any change to Host or Plugin.
inline constexpr int kPluginAbiVersion = 3;  // 3: Host::certificate_collected

class Host {
public:
    virtual ~Host() = default;
    // The whole configuration (a plugin reads its own section, and any
    // legacy section it honours).
    virtual const Config& config() const = 0;
    // The one certificate store of the process.
    virtual CertStore& store() = 0;
    // The host's event loop, run by the host's threads: plugins put their
    // servers on it and post work to it.
    virtual boost::asio::io_context& io() = 0;
    // The host's worker pool (the one the SMTP listener relays on): for
    // work that may block; post it here and resume on your own strand.
    virtual boost::asio::any_io_executor workers() = 0;
    // A plugin stored a certificate for `address` (normalised), current now
    // (ABI 3). The host may act on it -- with [invite] confirm = yes, serve
    // sends the encrypted confirmation (issue 13) -- on its own workers;
    // returns at once, never throws.
    virtual void certificate_collected(const std::string& address) { (void)address; }
};

// A subcommand a plugin offers: `sealpost NAME ARGS...` loads the plugin
// (same loader, same ABI check as `serve`) and calls run(argc, argv) with
// argv[0] = NAME. run parses its own options (cli_common.hpp in the core)
// and returns a sysexits exit code (errors.hpp).
struct PluginCommand {
    std::string name;
    std::string summary;
    std::function<int(int argc, char** argv)> run;
};

class Plugin {
public:
    virtual ~Plugin() = default;
    virtual std::string name() const = 0;
    virtual void start(Host& host) = 0;
    virtual void stop() = 0;
    virtual std::vector<PluginCommand> commands() const { return {}; }
};

using PluginFactory = std::shared_ptr<Plugin>();

}  // namespace sealpost

// In exactly one .cpp of a plugin: SEALPOST_PLUGIN(my_factory_function)
#define SEALPOST_PLUGIN(factory)                                                   \
    extern "C" BOOST_SYMBOL_EXPORT const int sealpost_plugin_abi;                 \
    extern "C" BOOST_SYMBOL_EXPORT const int sealpost_plugin_abi = sealpost::kPluginAbiVersion; \
    BOOST_DLL_ALIAS(factory, sealpost_plugin_create)
