// aes_cbc_base64.hpp: AES-256-CBC and the base64 lines of its ciphertext in
// one loop. CBC encryption cannot run two blocks at once: each AES block
// waits on the one before, and the CPU's other units sit idle for most of
// its 14 rounds. The base64 of the ciphertext made just before needs only
// those units, so each block's rounds are followed, in the same loop, by
// the base64 of about 16 bytes of earlier ciphertext: the CPU runs both at
// once, and the envelope's base64 costs almost nothing on top of the AES.
// (OpenSSL's "stitched" AES-CBC with SHA-256 for TLS works the same way.)
//
// The output is byte for byte what EVP's AES-256-CBC and Base64LineWriter
// give (tests compare them on random keys, IVs and lengths). Used where the
// CPU has AES-NI and OpenSSL's own AES would come from its default provider
// (not under "fips=yes", not with only the FIPS provider loaded: this AES
// is not a provider's); elsewhere the caller uses EVP.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "base64_writer.hpp"

namespace sealpost {

// Whether encrypt_aes256_cbc_base64 may encrypt `plaintext_size` bytes for
// `cipher`: AES-256-CBC, AES-NI here, no FIPS default, and content long
// enough to fill a line (shorter content gains nothing).
bool aes256_cbc_base64_applies(const EVP_CIPHER* cipher, std::size_t plaintext_size);

// Encrypts `plaintext` with AES-256-CBC (PKCS#7 padding) under key[32] and
// iv[16], and writes the ciphertext's base64 lines to `lines`, which appends
// to `out` (the writer's own string). Returns the ciphertext's length.
std::size_t encrypt_aes256_cbc_base64(const unsigned char* key, const unsigned char* iv, std::string_view plaintext,
                                      Base64LineWriter& lines, std::string& out);

}  // namespace sealpost
