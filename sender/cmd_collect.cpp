// cmd_collect.cpp: `sealpost collect` (placeholder until its issue lands).
#include <iostream>

#include "commands.hpp"
#include "errors.hpp"

namespace sealpost {

int run_collect(int, char**) {
    std::cerr << "sealpost collect: not available in this build\n";
    return kExitSoftware;
}

}  // namespace sealpost
