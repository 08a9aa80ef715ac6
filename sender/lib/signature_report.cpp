// signature_report.cpp: CMS_verify over the signed bytes, then the chain.
#include "signature_report.hpp"

#include <openssl/cms.h>
#include <openssl/x509_vfy.h>

#include "cert_info.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

// The signer's chain to an anchor at `at` for S/MIME signing: the anchor's
// subject, or why there is none.
std::optional<std::string> chain_problem(X509_STORE* store, X509* signer, STACK_OF(X509) * untrusted,
                                         std::time_t at, std::string& root) {
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store, signer, untrusted) != 1) return "cannot set up the check";
    X509_STORE_CTX_set_time(ctx.get(), 0, at);
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SMIME_SIGN);
    if (X509_verify_cert(ctx.get()) != 1)
        return std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
    root = subject_line(sk_X509_value(chain, sk_X509_num(chain) - 1));
    return std::nullopt;
}

}  // namespace

SignatureVerifier::SignatureVerifier(const std::string& bundle) : bundle_(bundle), store_(X509_STORE_new()) {
    if (!store_ || X509_STORE_load_file(store_.get(), bundle.c_str()) != 1)
        fail(ErrorKind::Config, "show: cannot load trusted certificates from " + bundle + ": " + openssl_errors());
}

SignatureReport SignatureVerifier::verify(std::string_view der, const std::optional<std::string>& detached,
                                          std::time_t at) const {
    BioPtr in(BIO_new_mem_buf(der.data(), static_cast<int>(der.size())));
    CmsPtr cms(in ? d2i_CMS_bio(in.get(), nullptr) : nullptr);
    if (!cms) {
        openssl_errors();
        return {false, "signature unreadable: not a CMS structure"};
    }
    BioPtr content;
    if (detached) content.reset(BIO_new_mem_buf(detached->data(), static_cast<int>(detached->size())));
    BioPtr out(BIO_new(BIO_s_null()));
    // The signature alone first (NO_SIGNER_CERT_VERIFY), so a bad chain and
    // a bad signature are told apart.
    if (CMS_verify(cms.get(), nullptr, nullptr, content.get(), out.get(), CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
        return {false, "signature BAD: " + openssl_errors()};
    X509StackPtr signers(CMS_get0_signers(cms.get()));
    if (!signers || sk_X509_num(signers.get()) == 0) return {false, "signature BAD: no signer certificate"};
    X509* signer = sk_X509_value(signers.get(), 0);
    X509_up_ref(signer);  // CMS_get0_signers does not own its certificates; the stack free drops these refs
    for (int i = 1; i < sk_X509_num(signers.get()); ++i) X509_up_ref(sk_X509_value(signers.get(), i));
    X509StackPtr certs(CMS_get1_certs(cms.get()));
    std::string who = join(certificate_addresses(signer));
    std::string root;
    if (auto why = chain_problem(store_.get(), signer, certs.get(), at, root))
        return {false, "signature good, signer " + (who.empty() ? subject_line(signer) : who) + ", but no chain to "
                           "a trusted root (" + *why + ") in " + bundle_};
    return {true, "signature good, signer " + (who.empty() ? subject_line(signer) : who) + ", chain to " + root};
}

}  // namespace sealpost
