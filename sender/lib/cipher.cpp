// cipher.cpp: cipher names <-> OpenSSL.
#include "cipher.hpp"

#include "errors.hpp"

namespace sealpost {

Cipher parse_cipher(std::string_view name) {
    if (name == "aes-256-cbc" || name == "aes256-cbc") return Cipher::Aes256Cbc;
    if (name == "aes-128-cbc" || name == "aes128-cbc") return Cipher::Aes128Cbc;
    if (name == "aes-128-gcm" || name == "aes128-gcm") return Cipher::Aes128Gcm;
    if (name == "aes-256-gcm" || name == "aes256-gcm") return Cipher::Aes256Gcm;
    fail(ErrorKind::Config, "cipher '" + std::string(name) +
                                "' is not supported (use aes-256-cbc, aes-128-cbc, aes-128-gcm or aes-256-gcm)");
}

const char* cipher_name(Cipher c) {
    switch (c) {
        case Cipher::Aes256Cbc: return "aes-256-cbc";
        case Cipher::Aes128Cbc: return "aes-128-cbc";
        case Cipher::Aes128Gcm: return "aes-128-gcm";
        case Cipher::Aes256Gcm: return "aes-256-gcm";
    }
    return "?";
}

const EVP_CIPHER* cipher_evp(Cipher c) {
    switch (c) {
        case Cipher::Aes256Cbc: return EVP_aes_256_cbc();
        case Cipher::Aes128Cbc: return EVP_aes_128_cbc();
        case Cipher::Aes128Gcm: return EVP_aes_128_gcm();
        case Cipher::Aes256Gcm: return EVP_aes_256_gcm();
    }
    return nullptr;
}

bool cipher_is_aead(Cipher c) { return c == Cipher::Aes128Gcm || c == Cipher::Aes256Gcm; }

}  // namespace sealpost
