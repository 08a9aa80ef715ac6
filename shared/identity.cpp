// identity.cpp: loading and checking a signing identity.
#include "identity.hpp"

#include <openssl/pem.h>

#include <cstring>

#include "address.hpp"
#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "config.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "secret_file.hpp"
#include "signer_chain.hpp"

namespace sealpost {
namespace {

// OpenSSL's passphrase callback: never prompts. Hands over the configured
// passphrase, or refuses; either way records that the key was encrypted.
struct PassphraseRequest {
    const std::string* passphrase = nullptr;
    bool asked = false;
};

int passphrase_callback(char* buf, int size, int /*rwflag*/, void* u) {
    auto* req = static_cast<PassphraseRequest*>(u);
    req->asked = true;
    if (!req->passphrase || size <= 0) return -1;
    if (req->passphrase->size() > static_cast<std::size_t>(size)) return -1;
    std::memcpy(buf, req->passphrase->data(), req->passphrase->size());
    return static_cast<int>(req->passphrase->size());
}

// Every certificate of a PEM file, in order.
void read_all_certificates(const std::string& pem, STACK_OF(X509) * out) {
    BioPtr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    while (X509* c = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)) sk_X509_push(out, c);
    openssl_errors();  // the loop ends on "no start line": not an error
}

bool bool_value(const std::string& v) { return v == "true" || v == "yes" || v == "1" || v == "on"; }

}  // namespace

IdentityOptions IdentityOptions::from_config(const Config& config) {
    IdentityOptions o;
    o.passphrase_file = config.get_or("sender", "key-passphrase-file", "");
    o.trusted_certs = config.get_or("sender", "trusted-certs", "");
    o.announce_gcm = bool_value(config.get_or("sender", "announce-gcm", "false"));
    return o;
}

SigningIdentityPtr IdentityStore::get(std::string_view address_in) {
    std::string address = normalise_address(address_in);
    std::lock_guard lock(mutex_);
    auto it = cache_.find(address);
    if (it != cache_.end()) return it->second;
    auto id = load(address);
    cache_.emplace(address, id);
    return id;
}

SigningIdentityPtr IdentityStore::load(const std::string& address) const {
    auto crt_path = dir_ / address_file_name(address, ".crt");
    auto key_path = dir_ / address_file_name(address, ".pem");
    auto chain_path = dir_ / address_file_name(address, ".chain.pem");
    const std::string what = "sign: " + address + ": ";

    std::optional<std::string> key_pem;
    try {
        key_pem = read_secret_file(key_path, "private key");
    } catch (const Error& e) {
        fail(e.kind(), what + e.what());
    }
    if (!key_pem)
        fail(ErrorKind::Config, what + "no private key " + key_path.string() +
                                    " (put the signer's key there, or send without --sign)");
    auto crt_pem = read_file(crt_path);
    if (!crt_pem) fail(ErrorKind::Config, what + "no certificate " + crt_path.string());

    auto id = std::make_shared<SigningIdentity>();
    id->address = address;
    id->announce_gcm = options_.announce_gcm;
    id->chain.reset(sk_X509_new_null());
    {
        // The .crt: the signer's certificate first, then any intermediates.
        X509StackPtr all(sk_X509_new_null());
        read_all_certificates(*crt_pem, all.get());
        if (sk_X509_num(all.get()) == 0)
            fail(ErrorKind::Config, what + crt_path.string() + ": no PEM certificate in it");
        id->cert.reset(sk_X509_shift(all.get()));
        while (sk_X509_num(all.get()) > 0) sk_X509_push(id->chain.get(), sk_X509_shift(all.get()));
    }

    std::optional<std::string> passphrase;
    if (!options_.passphrase_file.empty()) {
        try {
            passphrase = read_secret_file(options_.passphrase_file, "key passphrase file");
        } catch (const Error& e) {
            fail(e.kind(), what + "[sender] key-passphrase-file: " + e.what());
        }
        if (!passphrase)
            fail(ErrorKind::Config, what + "[sender] key-passphrase-file " + options_.passphrase_file.string() +
                                        " does not exist");
        // One line: the line end is not part of the passphrase.
        if (auto nl = passphrase->find_first_of("\r\n"); nl != std::string::npos) passphrase->resize(nl);
    }
    PassphraseRequest req{passphrase ? &*passphrase : nullptr, false};
    BioPtr kb(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
    id->key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, passphrase_callback, &req));
    if (passphrase) OPENSSL_cleanse(passphrase->data(), passphrase->size());
    OPENSSL_cleanse(key_pem->data(), key_pem->size());
    if (!id->key) {
        std::string detail = openssl_errors();
        if (req.asked && !req.passphrase)
            fail(ErrorKind::Config, what + "key " + key_path.string() +
                                        " is encrypted: set [sender] key-passphrase-file (a file, mode 600, "
                                        "holding its passphrase), or store the key unencrypted (mode 600)");
        if (req.asked)
            fail(ErrorKind::Config, what + "key " + key_path.string() +
                                        " cannot be decrypted with the passphrase in " +
                                        options_.passphrase_file.string() + " (" + detail + ")");
        fail(ErrorKind::Config, what + key_path.string() + ": not a readable PEM private key (" + detail + ")");
    }
    if (X509_check_private_key(id->cert.get(), id->key.get()) != 1)
        fail(ErrorKind::Config, what + key_path.string() + " does not match " + crt_path.string() +
                                    " (the first certificate in it must be the signer's)");
    openssl_errors();
    if (!certificate_has_address(id->cert.get(), address))
        fail(ErrorKind::Config, what + crt_path.string() + " is not issued to " + address);

    if (auto chain_pem = read_file(chain_path)) {
        X509StackPtr more(sk_X509_new_null());
        read_all_certificates(*chain_pem, more.get());
        if (sk_X509_num(more.get()) == 0)
            fail(ErrorKind::Config, what + chain_path.string() + " holds no certificate");
        while (sk_X509_num(more.get()) > 0) {
            X509Ptr c(sk_X509_shift(more.get()));
            bool dup = X509_cmp(c.get(), id->cert.get()) == 0;
            for (int i = 0; !dup && i < sk_X509_num(id->chain.get()); ++i)
                dup = X509_cmp(c.get(), sk_X509_value(id->chain.get(), i)) == 0;
            if (!dup) sk_X509_push(id->chain.get(), c.release());
        }
    }

    if (auto problem = signer_chain_problem(id->cert.get(), id->chain.get(), options_.trusted_certs))
        log()->warn("{}{}; recipients may not be able to verify the signature", what, *problem);
    else
        log()->debug("{}chain to a trust anchor verified ({} intermediate(s) included)", what,
                     sk_X509_num(id->chain.get()));
    return id;
}

}  // namespace sealpost
