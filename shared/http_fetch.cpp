// http_fetch.cpp: the bounded libcurl request of http_fetch.hpp.
#include "http_fetch.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "handles.hpp"

namespace sealpost {
namespace {

using Curl = std::unique_ptr<CURL, Free<curl_easy_cleanup>>;
using Slist = std::unique_ptr<curl_slist, Free<curl_slist_free_all>>;

struct Sink {
    std::string* body;
    std::size_t max;
    bool overflow = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const std::size_t len = size * n;
    if (sink->body->size() + len > sink->max) {
        sink->overflow = true;
        return 0;  // aborts the transfer
    }
    sink->body->append(data, len);
    return len;
}

}  // namespace

FetchResult http_fetch(const FetchRequest& request) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    FetchResult r;
    Curl curl(curl_easy_init());
    if (!curl) {
        r.error = request.url + ": libcurl could not start";
        return r;
    }
    char errbuf[CURL_ERROR_SIZE] = {};
    Sink sink{&r.body, request.max_bytes};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, request.timeout);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, request.timeout);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_bytes));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sealpost-revocation");
    Slist headers;
    if (request.post_body) {
        headers.reset(curl_slist_append(nullptr, ("Content-Type: " + request.content_type).c_str()));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.post_body->data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.post_body->size()));
    }
    CURLcode code = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    if (sink.overflow || code == CURLE_FILESIZE_EXCEEDED) {
        r.error = request.url + ": response larger than " + std::to_string(request.max_bytes) + " bytes";
        r.body.clear();
        return r;
    }
    if (code != CURLE_OK) {
        r.error = request.url + ": " + curl_easy_strerror(code) + (errbuf[0] ? std::string(": ") + errbuf : "");
        r.body.clear();
        return r;
    }
    if (r.status != 200) {
        r.error = request.url + ": HTTP status " + std::to_string(r.status);
        r.body.clear();
        return r;
    }
    r.ok = true;
    return r;
}

}  // namespace sealpost
