// kept_chain.cpp: write and read <store>/.chain/<leaf-sha256>.pem.
#include "kept_chain.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "atomic_file.hpp"
#include "cert_info.hpp"

namespace sealpost {
namespace fs = std::filesystem;

void keep_chain(const fs::path& store_dir, const std::vector<X509Ptr>& chain) {
    if (chain.empty()) return;
    std::string pem;
    for (const auto& c : chain) pem += certificate_pem(c.get());
    const fs::path dir = store_dir / ".chain";
    ensure_directory(dir);
    write_file_atomic(dir, sha256_fingerprint(chain.front().get()) + ".pem", pem, true, 0644);
}

std::vector<X509Ptr> kept_chain(const fs::path& store_dir, X509* leaf) {
    std::vector<X509Ptr> out;
    std::optional<std::string> pem;
    try {
        pem = read_file(store_dir / ".chain" / (sha256_fingerprint(leaf) + ".pem"), 1024 * 1024);
    } catch (const std::exception&) {
        return out;
    }
    if (!pem) return out;
    BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
    while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(raw);
    ERR_clear_error();
    if (out.empty() || X509_cmp(out.front().get(), leaf) != 0) out.clear();
    return out;
}

}  // namespace sealpost
