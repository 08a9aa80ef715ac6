// smtp_outcome.hpp: what one SMTP transaction means for the sender, from
// libcurl's result code and the rebuilt dialogue: accepted, partial (some
// RCPTs refused), temporary (4xx, connection lost, timeout, TLS handshake
// failure) or permanent (5xx; a server certificate that cannot be verified,
// with the fix: --ca-file / [smtp] ca-file), with each recipient's own reply. Pure function,
// unit-tested with recorded dialogues; never throws.
#pragma once

#include <curl/curl.h>

#include <string_view>
#include <vector>

#include "address.hpp"
#include "smtp_dialogue.hpp"
#include "transport.hpp"

namespace sealpost {

DeliveryResult smtp_outcome(CURLcode code, std::string_view curl_error, const std::vector<SmtpExchange>& dialogue,
                            const std::vector<Mailbox>& recipients);

}  // namespace sealpost
