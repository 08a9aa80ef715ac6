// address.cpp: address parsing (GMime), normalisation (libidn2), file-name gate.
#include "ascii.hpp"
#include "address.hpp"

#include <gmime/gmime.h>
#include <idn2.h>

#include <cstdlib>

#include "errors.hpp"
#include "handles.hpp"
#include "log.hpp"
#include "mime.hpp"
#include "plain_address_list.hpp"

namespace sealpost {
namespace {

constexpr std::size_t kMaxFileNameAddress = 254;

void collect(InternetAddressList* list, std::vector<Mailbox>& out, std::vector<std::string>* rejected) {
    int n = internet_address_list_length(list);
    for (int i = 0; i < n; ++i) {
        InternetAddress* ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            collect(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out, rejected);
            continue;
        }
        if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) continue;
        const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        const char* name = internet_address_get_name(ia);
        try {
            out.push_back(Mailbox{name ? name : "", normalise_address(addr ? addr : "")});
        } catch (const Error&) {
            if (rejected) rejected->push_back(addr ? addr : "");
        }
    }
}

}  // namespace

std::vector<Mailbox> parse_address_list(std::string_view header_value, std::vector<std::string>* rejected) {
    if (auto plain = plain_address_list(header_value)) return std::move(*plain);
    return parse_address_list_with_gmime(header_value, rejected);
}

std::vector<Mailbox> parse_address_list_with_gmime(std::string_view header_value, std::vector<std::string>* rejected) {
    mime_init();
    std::vector<Mailbox> out;
    std::string text(header_value);
    GObjectPtr<InternetAddressList> list(internet_address_list_parse(nullptr, text.c_str()));
    if (list) collect(list.get(), out, rejected);
    return out;
}

std::string normalise_address(std::string_view address) {
    std::string a(address);
    while (!a.empty() && (a.front() == ' ' || a.front() == '\t')) a.erase(a.begin());
    while (!a.empty() && (a.back() == ' ' || a.back() == '\t')) a.pop_back();
    auto at = a.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == a.size())
        fail(ErrorKind::Input, "address '" + a + "' is not of the form local@domain");
    std::string local = ascii_lower(a.substr(0, at));
    std::string domain = a.substr(at + 1);
    bool ascii = true;
    for (unsigned char c : domain) ascii = ascii && c < 0x80;
    if (!ascii) {
        char* out = nullptr;
        int rc = idn2_to_ascii_8z(domain.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
        if (rc != IDN2_OK)
            fail(ErrorKind::Input, "address '" + a + "': domain is not a valid IDN (" +
                                       idn2_strerror(rc) + ")");
        domain = out;
        idn2_free(out);
    }
    return local + "@" + ascii_lower(domain);
}

std::optional<std::string> unsafe_file_name_reason(std::string_view address) {
    if (address.empty()) return "empty address";
    if (address.size() > kMaxFileNameAddress) return "longer than 254 bytes";
    if (address.front() == '.') return "starts with a dot";
    if (address.find("..") != std::string_view::npos) return "contains '..'";
    for (unsigned char c : address) {
        if (c == '/' || c == '\\') return "contains a path separator";
        if (c == 0) return "contains NUL";
        if (c < 0x20 || c == 0x7f) return "contains a control character";
    }
    if (address.find('@') == std::string_view::npos) return "has no '@'";
    return std::nullopt;
}

std::string address_file_name(std::string_view address, std::string_view suffix) {
    if (auto why = unsafe_file_name_reason(address))
        fail(ErrorKind::Input, "address '" + printable(address, 80) + "' cannot be a file name: " + *why);
    return std::string(address) + std::string(suffix);
}

std::string_view address_domain(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

}  // namespace sealpost
