// cmd_certs.cpp: `sealpost certs` (placeholder until its issue lands).
#include <iostream>

#include "commands.hpp"
#include "errors.hpp"

namespace sealpost {

int run_certs(int, char**) {
    std::cerr << "sealpost certs: not available in this build\n";
    return kExitSoftware;
}

}  // namespace sealpost
