// send_fuzz.cpp: libFuzzer target for the send path on hostile input:
// prepare_message (MIME parse, envelope, 7-bit re-encoding, the entity's
// write), then the entity signed (opaque: its content put back in place,
// der_splice) and encrypted for one recipient (streamed, AES-CBC), and the
// oracle: OpenSSL decrypts and verifies it back to the very entity. Any
// input ends in Error (refused, with a reason) or in that round trip; a
// crash, a sanitizer report or a different entity is a finding. A second
// oracle: wherever prepare_canonical (no GMime) answers, GMime's path
// accepts the message too and agrees byte for byte on the entity, the
// sender, the recipients and the Bcc set (the outer headers hold a Date
// and Message-ID made up anew where the input lacks them:
// canonical_prepare_test compares those).
//
// Build and run: tests/fuzz/build_fuzz.sh OUTDIR send_fuzz, then
//   SEALPOST_FUZZ_PKI=build/test-pki OUTDIR/send_fuzz -max_total_time=20 CORPUS_DIR
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "errors.hpp"
#include "identity.hpp"
#include "log.hpp"
#include "mime.hpp"
#include "prepared_message.hpp"
#include "smime_build.hpp"

namespace {

using namespace sealpost;

EvpPkeyPtr pem_key(const std::string& path) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    return EvpPkeyPtr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

struct Harness {
    std::string pki;
    SigningIdentityPtr alice;
    X509Ptr bob;
    EvpPkeyPtr bob_key;
    MimeLimits limits;

    Harness() {
        log()->set_level(spdlog::level::off);
        const char* dir = std::getenv("SEALPOST_FUZZ_PKI");
        if (!dir) {
            std::fprintf(stderr, "send_fuzz: set SEALPOST_FUZZ_PKI to the test PKI (build/test-pki)\n");
            std::abort();
        }
        pki = dir;
        IdentityStore identities(pki + "/keys");
        alice = identities.get("alice@example.com");
        bob = read_certificate_pem(read_file(pki + "/users/bob@example.com.crt").value_or(""));
        bob_key = pem_key(pki + "/users/bob@example.com.pem");
        if (!alice || !bob || !bob_key) std::abort();
        limits.max_bytes = 1 << 20;
    }
};

std::string part_der(const std::string& part) {
    auto body = part.find("\r\n\r\n");
    if (body == std::string::npos) std::abort();
    return base64_decode(part.substr(body + 4));
}

CmsPtr parse(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    if (!cms) std::abort();
    return cms;
}

std::string mem_bytes(BIO* b) {
    char* data = nullptr;
    long len = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

// The entity, signed and encrypted, read back by OpenSSL.
void round_trip(const Harness& h, const std::string& entity) {
    std::string envelope = encrypt_entity(sign_entity(entity, *h.alice, SignMode::Opaque), {h.bob.get()},
                                          Cipher::Aes256Cbc);
    CmsPtr enveloped = parse(part_der(envelope));
    BioPtr signed_part(BIO_new(BIO_s_mem()));
    if (CMS_decrypt(enveloped.get(), h.bob_key.get(), h.bob.get(), nullptr, signed_part.get(), CMS_BINARY) != 1)
        std::abort();
    CmsPtr signed_data = parse(part_der(mem_bytes(signed_part.get())));
    BioPtr content(BIO_new(BIO_s_mem()));
    if (CMS_verify(signed_data.get(), nullptr, nullptr, nullptr, content.get(),
                   CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
        std::abort();
    if (mem_bytes(content.get()) != entity) std::abort();
}

bool same(const PreparedMessage& a, const PreparedMessage& b) {
    if (a.from.address != b.from.address || a.from.name != b.from.name || a.visible != b.visible ||
        a.entity != b.entity || a.reencoded_parts != b.reencoded_parts || a.recipients.size() != b.recipients.size())
        return false;
    for (std::size_t i = 0; i < a.recipients.size(); ++i)
        if (a.recipients[i].address != b.recipients[i].address || a.recipients[i].name != b.recipients[i].name)
            return false;
    return true;
}

// The canonical path answers only where the GMime path agrees.
void canonical_agrees(const Harness& h, std::string_view raw) {
    auto fast = prepare_canonical(raw, h.limits);
    if (!fast) return;
    PreparedMessage slow;
    try {
        slow = prepare_with_gmime(raw, h.limits);
    } catch (const Error&) {
        std::abort();  // canonical, yet GMime refuses it
    }
    if (!same(*fast, slow)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Harness h;
    std::string_view raw(reinterpret_cast<const char*>(data), size);
    canonical_agrees(h, raw);
    PreparedMessage pm;
    try {
        pm = prepare_message(raw, h.limits);
    } catch (const Error&) {
        return 0;  // refused with a reason: the expected end for most inputs
    }
    round_trip(h, pm.entity);
    ERR_clear_error();
    return 0;
}
