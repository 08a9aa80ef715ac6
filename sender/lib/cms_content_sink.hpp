// cms_content_sink.hpp: the end of the BIO chain CMS_dataInit builds: the
// content OpenSSL produces (ciphertext) handed to a function block by block,
// instead of a memory BIO that zeroes, copies and keeps all of it. With
// der_splice.hpp the enveloped data is base64-encoded as it is encrypted:
// the ciphertext is never held whole.
#pragma once

#include <functional>
#include <string_view>

#include <openssl/bio.h>

namespace sealpost {

using ContentTaker = std::function<void(std::string_view block)>;

// A new sink BIO calling `take` (which must outlive it) for every write.
// A `take` that throws fails the write; the exception is kept and
// rethrown by rethrow_sink_failure() once OpenSSL has returned.
BIO* new_content_sink(const ContentTaker& take);
void rethrow_sink_failure(BIO* sink);

}  // namespace sealpost
