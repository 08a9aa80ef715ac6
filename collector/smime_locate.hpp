// smime_locate.hpp: finds the S/MIME structure in a parsed message: a
// multipart/signed with protocol application/(x-)pkcs7-signature, or an
// application/(x-)pkcs7-mime part (smime-type signed-data, certs-only or
// enveloped-data), at the top level or nested inside other multiparts.
// File names (smime.p7s, .p7m, .p7c) are hints for application/octet-stream
// parts, never requirements. Attached messages (message/rfc822) are not
// entered: a forwarded signed mail carries somebody else's signature.
//
// Logs every MIME part it sees on the message's Trace. Trusts nothing: the
// returned bytes are still to be parsed and verified; a structure that is
// not usable is a result with a reason, not an exception.
#pragma once

#include <gmime/gmime.h>

#include <optional>
#include <string>

#include "log.hpp"

namespace sealpost {

enum class SmimeForm {
    None,           // nothing that looks like S/MIME
    Detached,       // multipart/signed
    Opaque,         // application/pkcs7-mime; smime-type=signed-data (or unspecified)
    CertsOnly,      // application/pkcs7-mime; smime-type=certs-only
    Encrypted,      // application/pkcs7-mime; smime-type=enveloped-data / authEnveloped-data
    LoneSignature,  // a pkcs7-signature part outside multipart/signed: signs nothing
};
const char* to_string(SmimeForm f);

struct SmimeStructure {
    SmimeForm form = SmimeForm::None;
    std::string der;                          // the CMS bytes, transfer encoding removed
    std::optional<std::string> signed_bytes;  // Detached: the first part, canonical CRLF
    std::string where;                        // "multipart/signed at depth 1" for the log
    std::string problem;                      // set when the structure is unusable
};

// `max_bytes` bounds every decoded part.
SmimeStructure locate_smime(GMimeMessage* message, Trace& trace, std::size_t max_bytes);

}  // namespace sealpost
