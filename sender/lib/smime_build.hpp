// smime_build.hpp: turn a canonical MIME entity (headers + body, CRLF) into
// an S/MIME entity with OpenSSL CMS: opaque signed-data, multipart/signed
// (detached, SHA-256, micalg=sha-256), or enveloped / authEnveloped data to
// a set of recipient certificates. Inputs are trusted (our own output);
// failures are Error(Crypto) with OpenSSL's reasons. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cipher.hpp"
#include "handles.hpp"
#include "identity.hpp"

namespace sealpost {

enum class SignMode { None, Opaque, Detached };
SignMode parse_sign_mode(std::string_view name);  // none|opaque|detached
const char* sign_mode_name(SignMode m);

// `entity` must already be canonical (CRLF, 7-bit safe). Returns the new
// entity: its Content-* header lines, a blank line, the body.
std::string sign_entity(std::string_view entity, const SigningIdentity& signer, SignMode mode);

// OpenSSL's CMS SignedData for `entity`, detached (the content outside it,
// der_splice.hpp), DER: what sign_entity wraps when the signer has no
// template (signed_data_template.hpp). `signing_time`: the signingTime
// attribute (nullptr: the moment of signing).
std::string cms_signed_data(std::string_view entity, const SigningIdentity& signer,
                            const ASN1_TIME* signing_time = nullptr);

std::string encrypt_entity(std::string_view entity, const std::vector<X509*>& recipients, Cipher cipher);
// The same, appended to `out` (e.g. after the outer headers: the message is
// assembled once, in its final buffer). On an exception `out` holds part of
// the entity: the caller discards it (send_pipeline: the copy fails).
void append_encrypted_entity(std::string& out, std::string_view entity, const std::vector<X509*>& recipients,
                             Cipher cipher);

}  // namespace sealpost
