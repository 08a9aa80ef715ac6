// token_digest.hpp: a shared-secret token kept only as its SHA-256 digest
// and compared in constant time (the webhook's and the admin API's
// tokens): the digests have equal length whatever was sent, so nothing
// about the token leaks through timing.
#pragma once

#include <string>
#include <string_view>

namespace sealpost {

class TokenDigest {
public:
    explicit TokenDigest(std::string_view token);  // "" = no token configured
    bool configured() const { return !digest_.empty(); }
    // Whether `given` is the token (false when none is configured).
    bool matches(std::string_view given) const;

private:
    std::string digest_;
};

}  // namespace sealpost
