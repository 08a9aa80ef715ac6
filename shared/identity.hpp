// identity.hpp: signing identities from the keys directory, which nothing
// that collects certificates ever writes: `<address>.crt` (the signer's
// certificate, optionally followed by its intermediates, as CAs deliver
// them), `<address>.pem` (private key; opened once without following links
// and refused when readable by group or others or owned by another user, as
// ssh does; an encrypted key is read with `[sender] key-passphrase-file`,
// never by prompting) and optional `<address>.chain.pem` (more
// intermediates). Every intermediate goes into the signatures. At load the
// chain is built to a trust anchor (system bundle or `[sender]
// trusted-certs`) and a warning names the missing issuer when it cannot be.
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

class Config;

struct IdentityOptions {
    std::filesystem::path passphrase_file;  // [sender] key-passphrase-file; empty: encrypted keys are refused
    std::string trusted_certs;              // [sender] trusted-certs; empty: the system bundle
    bool announce_gcm = false;              // [sender] announce-gcm: the signer's mail client reads AES-GCM

    static IdentityOptions from_config(const Config& config);
};

struct SigningIdentity {
    std::string address;
    X509Ptr cert;
    EvpPkeyPtr key;
    X509StackPtr chain;  // intermediates, may be empty, never null
    bool announce_gcm = false;
};

using SigningIdentityPtr = std::shared_ptr<const SigningIdentity>;

class IdentityStore {
public:
    explicit IdentityStore(std::filesystem::path dir, IdentityOptions options = {})
        : dir_(std::move(dir)), options_(std::move(options)) {}

    // The identity for `address`; throws Error(Config) when files are
    // missing or do not match or the key is encrypted without a usable
    // passphrase, Error(Permission) for a loose or linked key file.
    SigningIdentityPtr get(std::string_view address);

    const std::filesystem::path& dir() const { return dir_; }

private:
    SigningIdentityPtr load(const std::string& address) const;

    std::filesystem::path dir_;
    IdentityOptions options_;
    std::mutex mutex_;
    std::map<std::string, SigningIdentityPtr, std::less<>> cache_;
};

}  // namespace sealpost
