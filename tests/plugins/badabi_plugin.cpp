// badabi_plugin.cpp: a plugin built against an ABI the host does not speak
// (version + 1000). The loader must refuse it before calling anything.
#include <stdexcept>

#include "plugin_api.hpp"

namespace {
class BadAbi final : public sealpost::Plugin {
public:
    std::string name() const override { return "badabi"; }
    void start(sealpost::Host&) override { throw std::logic_error("badabi: start must never be called"); }
    void stop() override {}
};
std::shared_ptr<sealpost::Plugin> create_badabi() { return std::make_shared<BadAbi>(); }
}  // namespace

extern "C" BOOST_SYMBOL_EXPORT const int sealpost_plugin_abi;
extern "C" BOOST_SYMBOL_EXPORT const int sealpost_plugin_abi = sealpost::kPluginAbiVersion + 1000;
BOOST_DLL_ALIAS(create_badabi, sealpost_plugin_create)
