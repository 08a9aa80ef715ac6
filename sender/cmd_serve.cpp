// cmd_serve.cpp: `sealpost serve` (placeholder until its issue lands).
#include <iostream>

#include "commands.hpp"
#include "errors.hpp"

namespace sealpost {

int run_serve(int, char**) {
    std::cerr << "sealpost serve: not available in this build\n";
    return kExitSoftware;
}

}  // namespace sealpost
