// identity.cpp: loading and checking a signing identity.
#include "identity.hpp"

#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstring>

#include "address.hpp"
#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "errors.hpp"

namespace sealpost {

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

    struct stat st {};
    if (::stat(key_path.c_str(), &st) != 0)
        fail(ErrorKind::Config, what + "no private key " + key_path.string() +
                                    " (put the signer's key there, or send without --sign)");
    if (st.st_mode & 077)
        fail(ErrorKind::Permission, what + "private key " + key_path.string() +
                                        " is readable by group or others; run: chmod 600 " + key_path.string());
    auto crt_pem = read_file(crt_path);
    if (!crt_pem) fail(ErrorKind::Config, what + "no certificate " + crt_path.string());
    auto key_pem = read_file(key_path);
    if (!key_pem) fail(ErrorKind::Config, what + "no private key " + key_path.string());

    auto id = std::make_shared<SigningIdentity>();
    id->address = address;
    try {
        id->cert = read_certificate_pem(*crt_pem);
    } catch (const Error& e) {
        fail(ErrorKind::Config, what + crt_path.string() + ": " + e.what());
    }
    BioPtr kb(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
    id->key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (!id->key) fail(ErrorKind::Config, what + key_path.string() + ": not a readable unencrypted PEM private key (" +
                                              openssl_errors() + ")");
    if (X509_check_private_key(id->cert.get(), id->key.get()) != 1)
        fail(ErrorKind::Config, what + key_path.string() + " does not match " + crt_path.string());
    if (!certificate_has_address(id->cert.get(), address))
        fail(ErrorKind::Config, what + crt_path.string() + " is not issued to " + address);

    id->chain.reset(sk_X509_new_null());
    if (auto chain_pem = read_file(chain_path)) {
        BioPtr cb(BIO_new_mem_buf(chain_pem->data(), static_cast<int>(chain_pem->size())));
        while (X509* c = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr)) sk_X509_push(id->chain.get(), c);
        openssl_errors();  // the loop ends on "no start line": not an error
        if (sk_X509_num(id->chain.get()) == 0)
            fail(ErrorKind::Config, what + chain_path.string() + " holds no certificate");
    }
    return id;
}

}  // namespace sealpost
