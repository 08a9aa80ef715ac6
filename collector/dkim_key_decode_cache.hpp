// dkim_key_decode_cache.hpp: libopendkim's DKIM public keys, decoded once.
//
// libopendkim turns the key record's p= into an EVP_PKEY with
// d2i_PUBKEY_bio() for every signature it verifies. On OpenSSL 3.0 (Debian
// 12) each call builds a decoder context: 0.19 ms, a fifth of the collector's
// CPU per message, for the same few keys all day. libopendkim has no entry
// point that takes a parsed key, so its import of d2i_PUBKEY_bio is pointed
// at a memo (import_redirect.hpp): same DER bytes, the same decoded key,
// shared by reference (OpenSSL's keys are safe to verify with from several
// threads; libopendkim frees its reference as before). The result is keyed by
// every byte of the DER, so a changed record is a new key; failures are never
// kept (each one reports its own error); at most 1,024 keys of at most 2,600
// bytes are held.
//
// Everything else libopendkim decides (tags, flags, key size, the
// verification itself) is unchanged. When the redirect is refused (another
// architecture, a libopendkim version whose use of the key was not read),
// keys are decoded per message as before and the reason is logged once.
#pragma once

#include <cstdint>
#include <string>

namespace sealpost {

struct DkimKeyDecodeStats {
    bool installed = false;
    std::string reason;  // why not, when !installed
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
};

// Installs the memo once per process (later calls return at once).
void install_dkim_key_decode_cache();

DkimKeyDecodeStats dkim_key_decode_stats();

// Drops every kept key (tests: each starts from an empty memo).
void forget_decoded_dkim_keys();

}  // namespace sealpost
