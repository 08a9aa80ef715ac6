// throwing_plugin.cpp: a well-formed plugin whose start() throws, as a
// plugin with a bad configuration would. The host must exit 70 naming it.
#include <stdexcept>

#include "plugin_api.hpp"

namespace {
class Throwing final : public sealpost::Plugin {
public:
    std::string name() const override { return "throwing"; }
    void start(sealpost::Host&) override { throw std::runtime_error("test plugin refuses to start"); }
    void stop() override {}
};
std::shared_ptr<sealpost::Plugin> create_throwing() { return std::make_shared<Throwing>(); }
}  // namespace

SEALPOST_PLUGIN(create_throwing)
