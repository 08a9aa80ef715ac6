// config.cpp: INI parsing with inih, known-key table, size parsing.
#include "config.hpp"

#include <ini.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "ascii.hpp"
#include "atomic_file.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

struct KnownKey {
    std::string_view section;
    std::string_view key;
};

// Every key of every section, in one place: the README's configuration
// reference follows this table.
constexpr std::array kKnownKeys = {
    KnownKey{"store", "dir"},
    KnownKey{"store", "backend"},
    KnownKey{"store", "url"},
    KnownKey{"store", "create-schema"},
    KnownKey{"store", "cache-dir"},
    KnownKey{"sender", "keys-dir"},
    KnownKey{"sender", "sign"},
    KnownKey{"sender", "encrypt"},
    KnownKey{"sender", "cipher"},
    KnownKey{"sender", "mix-key-types"},
    KnownKey{"sender", "mail-from"},
    KnownKey{"sender", "max-message-size"},
    KnownKey{"sender", "key-passphrase-file"},
    KnownKey{"sender", "trusted-certs"},
    KnownKey{"sender", "announce-gcm"},
    KnownKey{"relay", "out-dir"},
    KnownKey{"relay", "durable"},
    KnownKey{"relay", "smtp"},
    KnownKey{"relay", "api"},
    KnownKey{"smtp", "user"},
    KnownKey{"smtp", "password"},
    KnownKey{"smtp", "starttls"},
    KnownKey{"smtp", "ca-file"},
    KnownKey{"smtp", "helo"},
    KnownKey{"smtp", "connections"},
    KnownKey{"smtp", "timeout"},
    KnownKey{"api", "key"},
    KnownKey{"api", "campaign"},
    KnownKey{"api", "retries"},
    KnownKey{"api", "retry-delay"},
    KnownKey{"api", "timeout"},
    KnownKey{"api", "track"},
    KnownKey{"revocation", "mode"},
    KnownKey{"revocation", "ocsp"},
    KnownKey{"revocation", "refresh-interval"},
    KnownKey{"revocation", "timeout"},
    KnownKey{"revocation", "max-crl-size"},
    KnownKey{"log", "file"},
    KnownKey{"log", "level"},
    KnownKey{"collector", "store"},
    KnownKey{"collector", "listen"},
    KnownKey{"collector", "token"},
    KnownKey{"collector", "trusted-certs"},
    KnownKey{"collector", "dkim"},
    KnownKey{"collector", "dkim-alignment"},
    KnownKey{"collector", "dkim-keys"},
    KnownKey{"collector", "profile"},
    KnownKey{"collector", "verify-at"},
    KnownKey{"collector", "at"},
    KnownKey{"collector", "tls-cert"},
    KnownKey{"collector", "tls-key"},
    KnownKey{"collector", "max-body"},
    KnownKey{"collector", "max-message-size"},
    KnownKey{"collector", "max-mime-depth"},
    KnownKey{"collector", "max-mime-parts"},
    KnownKey{"collector", "max-connections"},
    KnownKey{"collector", "threads"},
    KnownKey{"collector", "nice"},
    KnownKey{"collector", "allow-no-token"},
    KnownKey{"webapp", "x-messagesystems-webhook-token"},
    KnownKey{"webapp", "user-certs-dir"},
    KnownKey{"webapp", "trusted-certs"},
    KnownKey{"plugins", "dir"},
    KnownKey{"plugins", "load"},
    KnownKey{"invite", "enabled"},
    KnownKey{"invite", "collect-address"},
    KnownKey{"invite", "from"},
    KnownKey{"invite", "template"},
    KnownKey{"invite", "renew-template"},
    KnownKey{"invite", "confirm-template"},
    KnownKey{"invite", "interval"},
    KnownKey{"invite", "max-per-day"},
    KnownKey{"invite", "exclude"},
    KnownKey{"invite", "renew-before"},
    KnownKey{"invite", "confirm"},
    KnownKey{"invite", "run-every"},
    KnownKey{"serve", "listen"},
    KnownKey{"serve", "tls-cert"},
    KnownKey{"serve", "tls-key"},
    KnownKey{"serve", "allow"},
    KnownKey{"serve", "max-message-size"},
    KnownKey{"serve", "threads"},
    KnownKey{"serve", "max-connections"},
    KnownKey{"serve", "shutdown-timeout"},
    KnownKey{"admin", "listen"},
    KnownKey{"admin", "token"},
    KnownKey{"admin", "metrics-public"},
};

// Sections named after what they apply to: "[domain example.com]",
// "[recipient alice@example.com]" (recipient_policy.hpp), with these keys.
constexpr std::array<std::string_view, 2> kPatternSections = {"domain", "recipient"};
constexpr std::array<std::string_view, 3> kPatternKeys = {"encrypt", "cipher", "invite"};

// "domain" for "domain example.com", else "".
std::string_view pattern_kind(std::string_view section) {
    for (auto kind : kPatternSections)
        if (section.size() > kind.size() + 1 && section.substr(0, kind.size()) == kind && section[kind.size()] == ' ')
            return kind;
    return {};
}

struct ParseState {
    std::map<std::string, std::map<std::string, std::string>>* values;
    std::vector<std::pair<std::string, std::string>>* unknown;  // section, key
};

int on_value(void* user, const char* section, const char* name, const char* value) {
    auto* st = static_cast<ParseState*>(user);
    std::string sec = ascii_lower(section), key = ascii_lower(name);
    if (!is_known_config_key(sec, key)) st->unknown->emplace_back(sec, key);
    (*st->values)[sec][key] = value;
    return 1;
}

// Levenshtein distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// The closest known name within a small distance, or "".
std::string closest(std::string_view word, const std::vector<std::string_view>& candidates) {
    std::string best;
    std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (auto c : candidates) {
        // "directory" for "dir": one name inside the other counts as close.
        bool nested = word.size() >= 3 && c.size() >= 3 && (word.find(c) != std::string_view::npos ||
                                                              c.find(word) != std::string_view::npos);
        std::size_t d = nested ? 1 : edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = std::string(c);
        }
    }
    return best;
}

bool is_known_section(std::string_view section) {
    if (!pattern_kind(section).empty()) return true;
    return std::any_of(kKnownKeys.begin(), kKnownKeys.end(), [&](const KnownKey& k) { return k.section == section; });
}

// The line number of `key` in `[section]` of the file text (0 when not found).
int line_of(const std::string& text, const std::string& section, const std::string& key) {
    std::string current;
    int n = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        std::string_view line(text.data() + pos, (eol == std::string::npos ? text.size() : eol) - pos);
        pos = eol == std::string::npos ? text.size() : eol + 1;
        ++n;
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        if (line.empty()) continue;
        if (line.front() == '[') {
            auto close = line.find(']');
            current = ascii_lower(line.substr(1, close == std::string_view::npos ? 0 : close - 1));
            continue;
        }
        auto sep = line.find_first_of("=:");
        std::string_view name = line.substr(0, sep);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        if (current == section && ascii_lower(name) == key) return n;
    }
    return 0;
}

std::string unknown_message(const std::string& path, const std::string& text, const std::string& section,
                            const std::string& key) {
    int line = line_of(text, section, key);
    std::string where = path + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
    if (!is_known_section(section)) {
        std::vector<std::string_view> sections;
        for (const auto& k : kKnownKeys)
            if (std::find(sections.begin(), sections.end(), k.section) == sections.end()) sections.push_back(k.section);
        std::string hint = closest(section, sections);
        return where + "unknown section [" + section + "]" + (hint.empty() ? "" : " (did you mean [" + hint + "]?)");
    }
    std::vector<std::string_view> keys;
    for (const auto& k : kKnownKeys)
        if (k.section == section) keys.push_back(k.key);
    if (!pattern_kind(section).empty()) keys.assign(kPatternKeys.begin(), kPatternKeys.end());
    std::string hint = closest(key, keys);
    return where + "unknown key '" + key + "' in section [" + section + "]" +
           (hint.empty() ? "" : " (did you mean '" + hint + "'?)");
}

}  // namespace

bool is_known_config_key(const std::string& section, const std::string& key) {
    if (!pattern_kind(section).empty())
        return std::find(kPatternKeys.begin(), kPatternKeys.end(), key) != kPatternKeys.end();
    return std::any_of(kKnownKeys.begin(), kKnownKeys.end(), [&](const KnownKey& k) {
        return k.section == section && k.key == key;
    });
}

Config Config::load(const std::string& path) {
    Config c;
    c.path_ = path;
    std::optional<std::string> text;
    try {
        text = read_file(path, kMaxConfigBytes);
    } catch (const Error& e) {
        fail(ErrorKind::Config, std::string("config: cannot read ") + e.what());
    }
    if (!text) fail(ErrorKind::Config, "config: cannot open " + path + ": no such file");
    std::vector<std::pair<std::string, std::string>> unknown;
    ParseState st{&c.file_, &unknown};
    int rc = ini_parse_string(text->c_str(), on_value, &st);
    if (rc > 0)
        fail(ErrorKind::Config, "config: " + path + " line " + std::to_string(rc) + ": syntax error");
    if (rc < 0) fail(ErrorKind::Config, "config: cannot read " + path);
    // A misspelt key or section would silently fall back to a default (for
    // [store], to sending in clear): every unknown name is an error.
    if (!unknown.empty()) {
        std::string all;
        for (const auto& [sec, key] : unknown) all += (all.empty() ? "" : "; ") + unknown_message(path, *text, sec, key);
        fail(ErrorKind::Config, "config: " + all);
    }
    return c;
}

std::optional<std::string> Config::get(const std::string& section, const std::string& key) const {
    for (const auto* layer : {&flags_, &file_}) {
        auto s = layer->find(section);
        if (s == layer->end()) continue;
        auto k = s->second.find(key);
        if (k != s->second.end()) return k->second;
    }
    return std::nullopt;
}

std::string Config::get_or(const std::string& section, const std::string& key,
                           const std::string& fallback) const {
    auto v = get(section, key);
    return v && !v->empty() ? *v : fallback;
}

long long Config::get_size(const std::string& section, const std::string& key,
                           long long fallback) const {
    auto v = get(section, key);
    if (!v || v->empty()) return fallback;
    std::size_t used = 0;
    long long n = 0;
    try {
        n = std::stoll(*v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    std::string suffix = ascii_lower(v->substr(used));
    long long mult = 1;
    if (suffix == "k" || suffix == "kb") mult = 1024;
    else if (suffix == "m" || suffix == "mb") mult = 1024 * 1024;
    else if (suffix == "g" || suffix == "gb") mult = 1024LL * 1024 * 1024;
    else if (!suffix.empty() || used == 0) mult = -1;
    if (mult < 0 || n < 0)
        fail(ErrorKind::Config, "config: [" + section + "] " + key + " = '" + *v +
                                    "' is not a size (use e.g. 10M, 512k, 1000)");
    return n * mult;
}

bool Config::get_bool(const std::string& section, const std::string& key, bool fallback) const {
    auto v = get(section, key);
    if (!v || v->empty()) return fallback;
    std::string b = ascii_lower(*v);
    if (b == "true" || b == "yes" || b == "on" || b == "1") return true;
    if (b == "false" || b == "no" || b == "off" || b == "0") return false;
    fail(ErrorKind::Config, "config: [" + section + "] " + key + " = '" + *v + "': expected yes or no");
}

bool Config::is_flag(const std::string& section, const std::string& key) const {
    auto s = flags_.find(section);
    return s != flags_.end() && s->second.count(key) > 0;
}

void Config::set(const std::string& section, const std::string& key, const std::string& value) {
    flags_[section][key] = value;
}

std::vector<std::string> Config::sections() const {
    std::vector<std::string> out;
    for (const auto* layer : {&file_, &flags_})
        for (const auto& [name, keys] : *layer)
            if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    return out;
}

std::map<std::string, std::string> Config::section(const std::string& name) const {
    std::map<std::string, std::string> out;
    if (auto s = file_.find(name); s != file_.end()) out = s->second;
    if (auto s = flags_.find(name); s != flags_.end())
        for (const auto& [k, v] : s->second) out[k] = v;
    return out;
}

}  // namespace sealpost
