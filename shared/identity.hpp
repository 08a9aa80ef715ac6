// identity.hpp: signing identities from the keys directory, which nothing
// that collects certificates ever writes: `<address>.crt`, `<address>.pem`
// (private key; refused when readable by group or others, as ssh does) and
// optional `<address>.chain.pem` (intermediates to include in signatures).
// Loaded once per address and kept: the key file is not re-read per message.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "handles.hpp"

namespace sealpost {

struct SigningIdentity {
    std::string address;
    X509Ptr cert;
    EvpPkeyPtr key;
    X509StackPtr chain;  // may be empty, never null
};

using SigningIdentityPtr = std::shared_ptr<const SigningIdentity>;

class IdentityStore {
public:
    explicit IdentityStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

    // The identity for `address`; throws Error(Config) when files are
    // missing or do not match, Error(Permission) for a loose key file.
    SigningIdentityPtr get(std::string_view address);

    const std::filesystem::path& dir() const { return dir_; }

private:
    SigningIdentityPtr load(const std::string& address) const;

    std::filesystem::path dir_;
    std::mutex mutex_;
    std::map<std::string, SigningIdentityPtr, std::less<>> cache_;
};

}  // namespace sealpost
