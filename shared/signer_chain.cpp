// signer_chain.cpp: X509_verify_cert over the signer's own files.
#include "signer_chain.hpp"

#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <cstdlib>

#include "cert_info.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

// The system's trust anchors. The hashed directory (SSL_CERT_DIR, else
// OpenSSL's default, /etc/ssl/certs on Debian) is read by subject hash,
// only the certificates the chain asks for, where loading the bundle file
// parses all of them (some 140 certificates, 35 ms at every start: issue
// 14's profile of `send`). Debian's update-ca-certificates keeps both the
// same; with SSL_CERT_FILE naming another file, that file is what the
// user chose: loaded as OpenSSL would.
bool same_file(const char* a, const char* b) {
    struct stat sa {}, sb {};
    return ::stat(a, &sa) == 0 && ::stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void use_system_anchors(X509_STORE* store) {
    const char* file = std::getenv(X509_get_default_cert_file_env());
    if (file && !same_file(file, X509_get_default_cert_file())) {
        X509_STORE_set_default_paths(store);
        return;
    }
    const char* dir = std::getenv(X509_get_default_cert_dir_env());
    X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
    if (!lookup || X509_LOOKUP_add_dir(lookup, dir ? dir : X509_get_default_cert_dir(), X509_FILETYPE_PEM) != 1)
        X509_STORE_set_default_paths(store);
}

}  // namespace

std::optional<std::string> signer_chain_problem(X509* leaf, STACK_OF(X509) * intermediates,
                                                const std::string& trusted_certs_file) {
    X509StorePtr store(X509_STORE_new());
    if (!store) fail_openssl("sign: cannot allocate a certificate store");
    if (trusted_certs_file.empty()) {
        use_system_anchors(store.get());
    } else if (X509_STORE_load_file(store.get(), trusted_certs_file.c_str()) != 1) {
        std::string detail = openssl_errors();
        fail(ErrorKind::Config, "[sender] trusted-certs: cannot read " + trusted_certs_file + " (" + detail + ")");
    }
    openssl_errors();
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, intermediates) != 1)
        fail_openssl("sign: cannot set up chain building");
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SMIME_SIGN);
    int ok = X509_verify_cert(ctx.get());
    openssl_errors();
    if (ok == 1) return std::nullopt;

    const std::string anchors = trusted_certs_file.empty() ? "the system bundle" : trusted_certs_file;
    int err = X509_STORE_CTX_get_error(ctx.get());
    X509* at = X509_STORE_CTX_get_current_cert(ctx.get());
    std::string at_name = at ? subject_line(at) : subject_line(leaf);
    switch (err) {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
            return "cannot build the signer's chain to a trust anchor in " + anchors + ": issuer '" +
                   (at ? issuer_line(at) : issuer_line(leaf)) + "' of '" + at_name +
                   "' is missing (put the intermediates after the certificate in the .crt or in the .chain.pem; "
                   "a root goes in [sender] trusted-certs)";
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            return "the signer's chain ends at '" + at_name + "', which is not a trust anchor in " + anchors;
        default:
            return "the signer's chain does not verify against " + anchors + ": " +
                   X509_verify_cert_error_string(err) + " at '" + at_name + "'";
    }
}

}  // namespace sealpost
