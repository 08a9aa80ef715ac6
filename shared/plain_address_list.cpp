// plain_address_list.cpp: a reader for the two plain forms of a mailbox; it
// refuses (nullopt) rather than guess at anything outside them.
#include "plain_address_list.hpp"

#include <string>

#include "ascii.hpp"

namespace sealpost {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// RFC 5322 atext.
bool is_atext(char c) { return is_alnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos; }

// A display name's word: atext without '=' and '?' (no encoded word can
// start), which GMime returns as written.
bool is_name_char(char c) { return is_atext(c) && c != '=' && c != '?'; }

bool is_domain_char(char c) { return is_alnum(c) || c == '-'; }

class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    bool at_end() const { return pos_ == text_.size(); }
    bool take(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
        return false;
    }
    void skip_spaces() {
        while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    }
    // The characters from here that `is` accepts (empty when none).
    template <typename Pred>
    std::string_view run(Pred is) {
        std::size_t from = pos_;
        while (pos_ < text_.size() && is(text_[pos_])) ++pos_;
        return text_.substr(from, pos_ - from);
    }
    // Runs joined by single `sep`s, none empty: a dot-atom, a domain.
    template <typename Pred>
    std::string_view joined(Pred is, char sep) {
        std::size_t from = pos_;
        do {
            if (run(is).empty()) return {};
        } while (take(sep));
        return text_.substr(from, pos_ - from);
    }
    // local@domain, the domain plain ASCII letters, digits and hyphens.
    std::optional<std::string_view> addr_spec() {
        std::size_t from = pos_;
        if (joined(is_atext, '.').empty() || !take('@')) return std::nullopt;
        std::string_view domain = joined(is_domain_char, '.');
        if (domain.empty() || ascii_lower(domain).find("xn--") != std::string::npos) return std::nullopt;
        return text_.substr(from, pos_ - from);
    }
    // A display name: words of name characters, one space between them.
    std::string_view phrase() {
        std::size_t from = pos_;
        while (!run(is_name_char).empty()) {
            std::size_t after_word = pos_;
            if (!take(' ') || pos_ == text_.size() || !is_name_char(text_[pos_])) {
                pos_ = after_word;
                break;
            }
        }
        return text_.substr(from, pos_ - from);
    }
    std::size_t pos() const { return pos_; }
    void rewind(std::size_t to) { pos_ = to; }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// One member, "local@domain" or "[Display Name ]<local@domain>", with the
// spaces around it.
std::optional<Mailbox> plain_mailbox(Reader& r) {
    r.skip_spaces();
    std::size_t start = r.pos();
    std::optional<Mailbox> out;
    if (auto bare = r.addr_spec()) {
        out = Mailbox{"", normalise_address(*bare)};
    } else {
        r.rewind(start);
        std::string_view name = r.phrase();
        r.skip_spaces();
        if (!r.take('<')) return std::nullopt;
        auto addr = r.addr_spec();
        if (!addr || !r.take('>')) return std::nullopt;
        out = Mailbox{std::string(name), normalise_address(*addr)};
    }
    r.skip_spaces();
    return out;
}

}  // namespace

std::optional<std::vector<Mailbox>> plain_address_list(std::string_view value) {
    Reader r(value);
    std::vector<Mailbox> out;
    for (;;) {
        auto mailbox = plain_mailbox(r);
        if (!mailbox) return std::nullopt;
        out.push_back(std::move(*mailbox));
        if (r.at_end()) return out;
        if (!r.take(',') || r.at_end()) return std::nullopt;  // an empty last member too
    }
}

}  // namespace sealpost
