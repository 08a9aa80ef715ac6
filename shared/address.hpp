// address.hpp: e-mail addresses from headers (parsed with GMime: display
// names, groups, lists; the plain forms without it), normalised for lookup
// (lowercase, IDN domain to ASCII), and the one gate that turns an address
// into a file name.
// An address that cannot be a safe file name is never made into a path:
// address_file_name() throws Error(Input) with the reason.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost {

struct Mailbox {
    std::string name;     // display name, decoded ("" when none)
    std::string address;  // normalised
};

// All mailboxes of an address-list header value (groups flattened).
// Mailboxes whose address cannot be normalised are skipped and reported in
// `rejected` (raw text) when given.
// Lists in the plain forms (plain_address_list.hpp) are read without GMime.
std::vector<Mailbox> parse_address_list(std::string_view header_value,
                                        std::vector<std::string>* rejected = nullptr);
// GMime's reading alone, whatever the form (what the plain reader is
// tested against).
std::vector<Mailbox> parse_address_list_with_gmime(std::string_view header_value,
                                                   std::vector<std::string>* rejected = nullptr);

// Lowercase; domain converted to ASCII (IDNA 2008). Throws Error(Input)
// for something that is not local@domain.
std::string normalise_address(std::string_view address);

// Why `address` may not be used as a file name, or nullopt when it may.
std::optional<std::string> unsafe_file_name_reason(std::string_view address);

// `<address><suffix>` after the safety check; throws Error(Input).
std::string address_file_name(std::string_view address, std::string_view suffix);

// The domain part of a normalised address.
std::string_view address_domain(std::string_view address);

}  // namespace sealpost
