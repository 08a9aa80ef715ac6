// token_digest.cpp: see token_digest.hpp.
#include "token_digest.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace sealpost {
namespace {

std::string sha256(std::string_view s) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
    return std::string(reinterpret_cast<char*>(md), sizeof md);
}

}  // namespace

TokenDigest::TokenDigest(std::string_view token) : digest_(token.empty() ? "" : sha256(token)) {}

bool TokenDigest::matches(std::string_view given) const {
    if (digest_.empty()) return false;
    const std::string d = sha256(given);
    return CRYPTO_memcmp(d.data(), digest_.data(), d.size()) == 0;
}

}  // namespace sealpost
