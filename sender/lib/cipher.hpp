// cipher.hpp: the content-encryption algorithms sealpost offers, by the names
// used on the command line and in config (`cipher = aes-256-cbc`).
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace sealpost {

enum class Cipher { Aes256Cbc, Aes128Cbc, Aes128Gcm, Aes256Gcm };

// Throws Error(Config) naming the accepted values.
Cipher parse_cipher(std::string_view name);
const char* cipher_name(Cipher c);
const EVP_CIPHER* cipher_evp(Cipher c);
// GCM ciphers produce AuthEnvelopedData (RFC 5083); the others EnvelopedData.
bool cipher_is_aead(Cipher c);

}  // namespace sealpost
