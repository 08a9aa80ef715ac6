// plain_address_list.hpp: the address lists nearly every application mail
// carries, "local@domain" and "Display Name <local@domain>" separated by
// commas, read without GMime (whose parser builds a GObject per mailbox and
// costs more per message than signing a 10 KB statement's hash). Anything
// else (quotes, comments, groups, encoded words, IDN, obsolete syntax, an
// empty member) is not read here: the caller hands it to GMime. Where both
// read a list they agree (tests compare them on random lists).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "address.hpp"

namespace sealpost {

// The mailboxes of `value` when every member has one of the two plain
// forms; nullopt otherwise. Addresses are normalised (normalise_address).
std::optional<std::vector<Mailbox>> plain_address_list(std::string_view value);

}  // namespace sealpost
