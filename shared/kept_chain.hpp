// kept_chain.hpp: the chain verified at collection, kept with the stored
// certificate (CertMetadata::issuers_pem, so every node of a shared store
// has it), so that a CRL or OCSP answer for a stored certificate can be
// verified later (at send, by `certs refresh`, by serve's refresher) with
// the issuer's key, without the message.
//
// Trusts the store as it trusts the stored certificates: only the collector
// writes it, after verifying the chain. Unreadable or missing is an empty
// chain (the caller says "no chain kept").
#pragma once

#include <string>
#include <vector>

#include "cert_store.hpp"
#include "handles.hpp"

namespace sealpost {

// PEM of `chain` without its first element (the leaf): what is kept.
std::string issuers_pem(const std::vector<X509Ptr>& chain);

// Leaf first, anchor last; empty when no chain was kept.
std::vector<X509Ptr> kept_chain(const StoredCertificate& sc);

}  // namespace sealpost
