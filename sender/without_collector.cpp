// without_collector.cpp: `collect` and `certs` in a build configured with
// -DSEALPOST_COLLECTOR=OFF (a sender-only build).
#include <iostream>

#include "commands.hpp"
#include "errors.hpp"

namespace sealpost {

int run_collect(int, char**) {
    std::cerr << "sealpost collect: this build has no collector (configured with -DSEALPOST_COLLECTOR=OFF)\n";
    return kExitSoftware;
}

int run_certs(int, char**) {
    std::cerr << "sealpost certs: this build has no collector (configured with -DSEALPOST_COLLECTOR=OFF)\n";
    return kExitSoftware;
}

}  // namespace sealpost
