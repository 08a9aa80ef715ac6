// api_json.hpp: the transmissions API's JSON, both ways. Builds the request
// body for one copy (recipients with address and name, the whole message as
// content.email_rfc822, campaign_id, options) and reads a response (status,
// results.total_accepted_recipients, errors[].message). The response is
// untrusted: a body that is not JSON, or not the documented shape, is
// reported, never trusted. Pure functions, unit-tested; never throw.
#pragma once

#include <string>
#include <string_view>

#include "transport.hpp"

namespace sealpost {

// The POST body. Tracking is turned on only when `track` is set and the
// copy is neither signed nor encrypted (the command refuses the mix).
std::string transmission_request(const OutputCopy& copy, const std::string& campaign, bool track);

// 429 and 5xx are worth another try; other statuses are final.
bool api_status_retryable(long http_status);

// The API's errors[].message (and description), "; "-joined and made
// printable, or a cut of the raw body when it is not the documented shape.
std::string api_error_text(std::string_view body);

// The outcome of a final response (not retried): 2xx with accepted ==
// sent is Accepted, fewer is Partial; 429/5xx TempFail; other 4xx PermFail.
DeliveryResult api_outcome(long http_status, std::string_view body, const OutputCopy& copy);

}  // namespace sealpost
