// dsn.hpp: building a delivery status notification (RFC 3464, in an RFC
// 6522 multipart/report) for recipients the upstream permanently rejected
// after `serve` had already answered 250: a text part for people, a
// message/delivery-status part (Reporting-MTA, and per recipient
// Final-Recipient, Action: failed, Status, Diagnostic-Code: smtp; <the
// upstream's reply>) and the original's header block as
// text/rfc822-headers. Pure: no I/O, no clock, no randomness (the caller
// passes the time and a unique token), so it is unit-tested byte for byte.
// Everything from outside (addresses, replies, headers) is made 7-bit and
// free of line breaks before it lands in a header field; never throws for
// bad input.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost {

struct DsnFailure {
    std::string recipient;  // envelope recipient (RCPT TO)
    int code = 0;           // upstream reply code, e.g. 550; 0 when none was seen
    std::string text;       // upstream reply text after the code, e.g. "5.1.1 no such user"
};

struct DsnRequest {
    std::string reporting_mta;   // our host name
    std::string envelope_sender; // where the DSN goes (never empty: no DSN for a null sender)
    std::string original;        // the message as the client sent it (CRLF)
    std::vector<DsnFailure> failures;
    std::time_t arrival = 0;     // when we received the message
    std::time_t now = 0;         // Date: of the DSN
    std::string unique;          // hex token for the boundary and the Message-ID
};

// "X.Y.Z" from the start of `text` when it is an enhanced status code of
// class 4 or 5 (RFC 3463), else "4.0.0" for a 4xx code, "5.0.0" otherwise
// (a DSN reports permanent failures; code 0 means none was seen).
std::string dsn_status(int code, std::string_view text);

// The whole DSN: header and body, CRLF line ends, 7-bit.
std::string build_dsn(const DsnRequest& request);

}  // namespace sealpost
