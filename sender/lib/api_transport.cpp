// api_transport.cpp: placeholder until the transports issue lands.
#include "errors.hpp"
#include "transport.hpp"

namespace sealpost {

std::unique_ptr<Transport> make_api_transport(const Config&) {
    fail(ErrorKind::Config, "the api transport is not available in this build");
}

}  // namespace sealpost
