// ocsp_check.cpp: OCSP request, response verification and cache (ocsp_check.hpp).
#include "ocsp_check.hpp"

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <algorithm>
#include <chrono>
#include <system_error>

#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "errors.hpp"
#include "http_fetch.hpp"
#include "log.hpp"

namespace sealpost {
namespace fs = std::filesystem;
namespace {

using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, Free<OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, Free<OCSP_BASICRESP_free>>;
using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, Free<OCSP_REQUEST_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, Free<OCSP_CERTID_free>>;

std::time_t gt_to_time(const ASN1_GENERALIZEDTIME* t) {
    if (!t) return 0;
    struct tm tm {};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return timegm(&tm);
}

fs::path cache_path(const fs::path& store_dir, X509* cert) {
    return store_dir / ".ocsp" / (sha256_fingerprint(cert) + ".der");
}

// Parses and verifies a DER OCSPResponse for `cert` issued by `issuer`.
OcspInfo verify_response(const std::string& der, X509* cert, X509* issuer) {
    OcspInfo info;
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    if (!resp) {
        ERR_clear_error();
        info.problem = "not an OCSP response";
        return info;
    }
    int rs = OCSP_response_status(resp.get());
    if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        info.problem = std::string("responder answered ") + OCSP_response_status_str(rs);
        return info;
    }
    OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
    if (!basic) {
        ERR_clear_error();
        info.problem = "OCSP response without a basic response";
        return info;
    }
    // The issuer is trusted directly (TRUSTOTHER); a delegated responder must
    // chain to it (PARTIAL_CHAIN: the issuer need not be a root).
    X509StackPtr certs(sk_X509_new_null());
    sk_X509_push(certs.get(), x509_ref(issuer).release());
    X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), issuer);
    X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
    int ok = OCSP_basic_verify(basic.get(), certs.get(), store.get(), OCSP_TRUSTOTHER);
    if (ok != 1) {
        info.problem = "OCSP response signature does not verify for " + subject_line(issuer) + ": " + openssl_errors();
        return info;
    }
    OcspCertIdPtr id(OCSP_cert_to_id(nullptr, cert, issuer));
    int status = -1, reason = -1;
    ASN1_GENERALIZEDTIME *revtime = nullptr, *thisupd = nullptr, *nextupd = nullptr;
    if (!id || OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revtime, &thisupd, &nextupd) != 1) {
        ERR_clear_error();
        info.problem = "OCSP response does not answer for this certificate";
        return info;
    }
    if (OCSP_check_validity(thisupd, nextupd, 300, -1) != 1) {
        ERR_clear_error();
        info.problem = "OCSP response is not current (thisUpdate " + format_time(gt_to_time(thisupd)) +
                       (nextupd ? ", nextUpdate " + format_time(gt_to_time(nextupd)) : std::string()) + ")";
        return info;
    }
    info.have = true;
    info.this_update = gt_to_time(thisupd);
    info.next_update = gt_to_time(nextupd);
    switch (status) {
        case V_OCSP_CERTSTATUS_GOOD: info.status = OcspStatus::Good; break;
        case V_OCSP_CERTSTATUS_REVOKED:
            info.status = OcspStatus::Revoked;
            info.detail = "revoked " + format_time(gt_to_time(revtime)) +
                          (reason >= 0 ? std::string(" (") + OCSP_crl_reason_str(reason) + ")" : std::string());
            break;
        default: info.status = OcspStatus::Unknown; break;
    }
    return info;
}

}  // namespace

const char* to_string(OcspStatus s) {
    switch (s) {
        case OcspStatus::Good: return "good";
        case OcspStatus::Revoked: return "revoked";
        case OcspStatus::Unknown: return "unknown";
    }
    return "?";
}

std::vector<std::string> ocsp_urls(X509* cert) {
    std::vector<std::string> out;
    STACK_OF(OPENSSL_STRING)* list = X509_get1_ocsp(cert);
    for (int i = 0; list && i < sk_OPENSSL_STRING_num(list); ++i) {
        std::string url = sk_OPENSSL_STRING_value(list, i);
        if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) out.push_back(url);
    }
    X509_email_free(list);
    return out;
}

OcspInfo load_cached_ocsp(const fs::path& store_dir, X509* cert, X509* issuer) {
    OcspInfo info;
    const fs::path path = cache_path(store_dir, cert);
    std::optional<std::string> der;
    try {
        der = read_file(path, 1024 * 1024);
    } catch (const std::exception& e) {
        info.problem = std::string("cannot read the cached OCSP response: ") + e.what();
        return info;
    }
    if (!der) {
        info.problem = "no OCSP response cached";
        return info;
    }
    info = verify_response(*der, cert, issuer);
    info.source = path.string();
    std::error_code ec;
    auto mtime = fs::last_write_time(path, ec);
    if (!ec) info.fetched_at = std::chrono::system_clock::to_time_t(std::chrono::file_clock::to_sys(mtime));
    if (!info.have) info.problem = "cached OCSP response " + path.string() + ": " + info.problem;
    return info;
}

OcspInfo fetch_ocsp(const fs::path& store_dir, X509* cert, X509* issuer, const RevocationOptions& options) {
    OcspInfo result;
    const auto urls = ocsp_urls(cert);
    if (urls.empty()) {
        result.problem = "no OCSP responder named";
        return result;
    }
    OcspRequestPtr req(OCSP_REQUEST_new());
    OCSP_CERTID* id = OCSP_cert_to_id(nullptr, cert, issuer);
    if (!req || !id || !OCSP_request_add0_id(req.get(), id)) {
        ERR_clear_error();
        result.problem = "cannot build an OCSP request";
        return result;
    }
    unsigned char* out = nullptr;
    int len = i2d_OCSP_REQUEST(req.get(), &out);
    if (len <= 0) {
        result.problem = "cannot encode the OCSP request";
        return result;
    }
    const std::string body(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
    std::string problems;
    for (const auto& url : urls) {
        FetchResult got =
            http_fetch({url, body, "application/ocsp-request", options.timeout, std::min<std::size_t>(options.max_bytes, 1024 * 1024)});
        if (!got.ok) {
            problems += (problems.empty() ? "" : "; ") + got.error;
            log()->warn("revocation: OCSP request failed: {}", got.error);
            continue;
        }
        OcspInfo info = verify_response(got.body, cert, issuer);
        if (!info.have) {
            problems += (problems.empty() ? "" : "; ") + url + ": " + info.problem;
            log()->warn("revocation: OCSP from {}: {}", url, info.problem);
            continue;
        }
        info.source = url;
        info.fetched_at = std::time(nullptr);
        const fs::path path = cache_path(store_dir, cert);
        fs::create_directories(path.parent_path());
        write_file_atomic(path.parent_path(), path.filename().string(), got.body, true, 0644);
        log()->info("revocation: OCSP {} for {} from {} (thisUpdate {}, nextUpdate {})", to_string(info.status),
                    sha256_fingerprint(cert), url, format_time(info.this_update),
                    info.next_update ? format_time(info.next_update) : "none");
        return info;
    }
    result.problem = problems;
    return result;
}

}  // namespace sealpost
