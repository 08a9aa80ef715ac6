// strict_base64.hpp: RFC 4648 base64 decoding for the webhook's
// email_rfc822 (email_rfc822_is_base64): the standard alphabet only, CR and
// LF skipped (nothing else: not spaces, not tabs), a length that is a
// multiple of 4, '=' only as the last one or two characters, and zero pad
// bits. Anything else throws Error(Input) naming what and where (offset in
// the input), so `QQ==QUJD` and `====` are refused instead of decoded to
// something.
#pragma once

#include <string>
#include <string_view>

namespace sealpost {

std::string strict_base64_decode(std::string_view text);

}  // namespace sealpost
