// nosymbol_plugin.cpp: a shared object with the right file name that is not
// a sealpost plugin (no sealpost_plugin_abi, no factory).
extern "C" __attribute__((visibility("default"))) int not_a_sealpost_plugin() { return 42; }
