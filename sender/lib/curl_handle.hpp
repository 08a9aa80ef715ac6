// curl_handle.hpp: RAII for libcurl (easy handles, header lists) and the
// one-time global set-up both network transports (smtp, api) share.
// Trusts libcurl; fails with Error(Internal) when libcurl cannot even
// initialise (out of memory), never for a network problem.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "handles.hpp"

namespace sealpost {

using CurlPtr = std::unique_ptr<CURL, Free<curl_easy_cleanup>>;
using CurlSlistPtr = std::unique_ptr<curl_slist, Free<curl_slist_free_all>>;

// curl_global_init once per process; SIGPIPE ignored (the handles use
// CURLOPT_NOSIGNAL so worker threads never see signals; a peer that closes
// the socket must become an error code, not a dead process).
void curl_global_once();

// A new easy handle with the settings every transport wants (NOSIGNAL,
// no progress meter). Throws Error(Internal) when libcurl returns null.
CurlPtr make_curl_handle();

// Appends `line` to a header/recipient list; throws Error(Internal) on failure.
void slist_append(CurlSlistPtr& list, const std::string& line);

// "Couldn't connect to server: Failed to connect to 127.0.0.1 port 1: ..."
// from the code and the handle's error buffer ("" allowed).
std::string curl_error_text(CURLcode code, const char* error_buffer);

}  // namespace sealpost
