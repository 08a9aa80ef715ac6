// kept_chain.cpp: the verified chain in and out of CertMetadata::issuers_pem.
#include "kept_chain.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "cert_info.hpp"

namespace sealpost {

std::string issuers_pem(const std::vector<X509Ptr>& chain) {
    std::string pem;
    for (std::size_t i = 1; i < chain.size(); ++i) pem += certificate_pem(chain[i].get());
    return pem;
}

std::vector<X509Ptr> kept_chain(const StoredCertificate& sc) {
    std::vector<X509Ptr> out;
    const std::string& pem = sc.meta.issuers_pem;
    if (pem.empty() || pem.size() > 1024 * 1024) return out;
    out.push_back(x509_ref(sc.cert.get()));
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(raw);
    ERR_clear_error();
    if (out.size() < 2) out.clear();
    return out;
}

}  // namespace sealpost
