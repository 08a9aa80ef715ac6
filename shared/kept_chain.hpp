// kept_chain.hpp: the chain verified at collection, kept beside the store
// as <store>/.chain/<leaf-sha256>.pem (leaf first, anchor last), so that a
// CRL or OCSP answer for a stored certificate can be verified later (at
// send, by `certs refresh`) with the issuer's key, without the message.
//
// Trusts the store directory as it trusts the stored certificates: only the
// collector writes here, after verifying the chain. An unreadable or
// missing file is an empty chain (the caller says "no chain kept").
#pragma once

#include <filesystem>
#include <vector>

#include "handles.hpp"

namespace sealpost {

void keep_chain(const std::filesystem::path& store_dir, const std::vector<X509Ptr>& chain);
std::vector<X509Ptr> kept_chain(const std::filesystem::path& store_dir, X509* leaf);

}  // namespace sealpost
