// signer_chain.hpp: can recipients verify our signatures? At identity load,
// build the signer's chain from its certificate file and `.chain.pem` to a
// trust anchor (the system bundle, or `[sender] trusted-certs`), as a
// recipient's client would, and say exactly what is missing when it cannot.
#pragma once

#include <optional>
#include <string>

#include "handles.hpp"

namespace sealpost {

// nullopt when `leaf` chains through `intermediates` to an anchor in
// `trusted_certs_file` ("" = the system bundle) now; otherwise why not,
// naming the missing issuer ("issuer 'O=..., CN=...' of '...' is missing").
// Throws Error(Config) when `trusted_certs_file` cannot be read.
std::optional<std::string> signer_chain_problem(X509* leaf, STACK_OF(X509) * intermediates,
                                                const std::string& trusted_certs_file);

}  // namespace sealpost
