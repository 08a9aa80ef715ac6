// nofactory_plugin.cpp: declares the right ABI version but exports no
// sealpost_plugin_create alias.
#include "plugin_api.hpp"

extern "C" BOOST_SYMBOL_EXPORT const int sealpost_plugin_abi;
extern "C" BOOST_SYMBOL_EXPORT const int sealpost_plugin_abi = sealpost::kPluginAbiVersion;
