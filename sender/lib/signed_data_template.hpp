// signed_data_template.hpp: a signer's SignedData made once by OpenSSL and
// refilled for every message. For one signer the detached SignedData is the
// same from message to message but for three values of fixed size: the
// signingTime (a UTCTime), the messageDigest (SHA-256 of the entity) and
// the signature over the signed attributes. OpenSSL's CMS builds the whole
// structure again for each message (fetches, certificate and name copies,
// the attributes' sorting and encoding: about 9 % of `send` at 10 KB).
//
// A template is made from OpenSSL's own output for a probe entity, and
// used only once it has proved itself: refilled for that probe, at that
// time, it must give OpenSSL's bytes exactly. RSA PKCS#1 v1.5 signatures
// are deterministic, so that comparison covers the holes, the hashing of
// the attributes and the signature. Any other key (RSA-PSS, EC) fails it
// or is not tried, and goes on through OpenSSL's CMS; so does a signing
// time a UTCTime cannot hold (2050 on: OpenSSL writes a GeneralizedTime).
#pragma once

#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/asn1.h>

#include "identity.hpp"

namespace sealpost {

// OpenSSL's detached SignedData (DER) for `entity`, signed at `signing_time`.
using SignedDataMaker = std::function<std::string(std::string_view entity, const ASN1_TIME* signing_time)>;

class SignedDataTemplate {
public:
    // nullptr when the signer's key is not RSA, the refilled probe is not
    // byte for byte what `openssl` made, or making it failed.
    static std::unique_ptr<SignedDataTemplate> build(const SigningIdentity& signer, const SignedDataMaker& openssl,
                                                     std::time_t now);
    ~SignedDataTemplate();
    SignedDataTemplate(const SignedDataTemplate&) = delete;
    SignedDataTemplate& operator=(const SignedDataTemplate&) = delete;

    // The SignedData for `entity` signed at `at`; nullopt when `at` is
    // outside UTCTime's years (1950-2049). Throws Error(Crypto) when the
    // key cannot sign. One thread at a time (it keeps its hashing and
    // signing contexts).
    std::optional<std::string> sign(std::string_view entity, std::time_t at);

private:
    struct Holes {  // offsets into der_
        std::size_t time_at = 0;       // the signingTime's 13 characters
        std::size_t digest_at = 0;     // the messageDigest's 32 bytes
        std::size_t attrs_at = 0;      // signedAttrs, [0] IMPLICIT SET OF: signed with a SET tag
        std::size_t attrs_size = 0;
        std::size_t signature_at = 0;  // the signature's value
        std::size_t signature_size = 0;
    };
    struct Contexts;
    SignedDataTemplate(std::string der, const Holes& holes, std::unique_ptr<Contexts> contexts);
    static std::unique_ptr<SignedDataTemplate> build_or_throw(const SigningIdentity& signer,
                                                              const SignedDataMaker& openssl, std::time_t now);
    static std::optional<Holes> holes_in(const std::string& der, EVP_PKEY* key, std::string_view time_chars);
    static std::unique_ptr<Contexts> contexts_for(EVP_PKEY* key);

    std::string der_;
    Holes holes_;
    std::unique_ptr<Contexts> contexts_;
};

// This thread's template for `signer`, made at the signer's second message
// on the thread (64 signers are kept per thread, the least recently used
// goes first). nullptr: none (yet); sign through OpenSSL's CMS.
SignedDataTemplate* signed_data_template_for(const SigningIdentity& signer, const SignedDataMaker& openssl);

}  // namespace sealpost
