// cms_describe.hpp: a human description of a CMS structure from DER, for
// `sealpost show`: content type, digest and cipher algorithms, signers
// (subject, address, serial), recipient identifiers, the embedded content
// of opaque signed data. Reads untrusted bytes: never throws for garbage,
// says "not a CMS structure (reason)" instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sealpost {

struct CmsDescription {
    std::vector<std::string> lines;  // to print, indented by the caller
    std::string embedded_content;    // opaque signed-data: the signed entity
    bool has_embedded = false;
};

CmsDescription describe_cms(std::string_view der);

}  // namespace sealpost
