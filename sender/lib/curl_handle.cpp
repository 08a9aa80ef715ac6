// curl_handle.cpp: libcurl global set-up and handle helpers (see the header).
#include "curl_handle.hpp"

#include <csignal>
#include <mutex>

#include "errors.hpp"

namespace sealpost {

void curl_global_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) fail(ErrorKind::Internal, "curl: global init failed");
        std::signal(SIGPIPE, SIG_IGN);
    });
}

CurlPtr make_curl_handle() {
    curl_global_once();
    CurlPtr h(curl_easy_init());
    if (!h) fail(ErrorKind::Internal, "curl: cannot create a handle (out of memory?)");
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_NOPROGRESS, 1L);
    return h;
}

void slist_append(CurlSlistPtr& list, const std::string& line) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (!grown) fail(ErrorKind::Internal, "curl: cannot grow a list (out of memory?)");
    (void)list.release();  // curl_slist_append returned the same head (or a new one for an empty list)
    list.reset(grown);
}

std::string curl_error_text(CURLcode code, const char* error_buffer) {
    std::string text = curl_easy_strerror(code);
    if (error_buffer && *error_buffer) text += std::string(": ") + error_buffer;
    return text;
}

}  // namespace sealpost
