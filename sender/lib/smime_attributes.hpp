// smime_attributes.hpp: the signed attributes sealpost adds to its
// SignerInfo instead of OpenSSL's defaults (which announce DES, 3DES and
// 40-bit RC2): SMIMECapabilities listing only what the signer's mailbox can
// be sent (AES-256-CBC, AES-128-CBC; AES-256-GCM and AES-128-GCM first, and
// only, with `[sender] announce-gcm`, i.e. when the client that reads the
// signer's mail decrypts AuthEnvelopedData), and the encryption key
// preference for the signer's certificate, both RFC 5751 2.5.3
// SMIMEEncryptionKeyPreference (1.2.840.113549.1.9.16.2.11) and Microsoft's
// (1.3.6.1.4.1.311.16.4), as NSS (Thunderbird) sends them.
#pragma once

#include <openssl/cms.h>

#include <string>

#include "identity.hpp"

namespace sealpost {

// Adds the attributes to `si` (before CMS_final signs it). Error(Crypto).
void add_signed_attributes(CMS_SignerInfo* si, const SigningIdentity& signer);

// DER of IssuerAndSerialNumber for `cert` (exposed for tests).
std::string issuer_and_serial_der(X509* cert);

}  // namespace sealpost
