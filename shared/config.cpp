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

#include "errors.hpp"

namespace sealpost {
namespace {

struct KnownKey {
    std::string_view section;
    std::string_view key;
};

// Every key of every section, in one place: the README's configuration
// reference follows this table.
constexpr std::array kKnownKeys = {
    KnownKey{"store", "dir"},
    KnownKey{"sender", "keys-dir"},
    KnownKey{"sender", "sign"},
    KnownKey{"sender", "encrypt"},
    KnownKey{"sender", "cipher"},
    KnownKey{"sender", "mix-key-types"},
    KnownKey{"sender", "mail-from"},
    KnownKey{"sender", "max-message-size"},
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
    KnownKey{"log", "file"},
    KnownKey{"log", "level"},
    KnownKey{"collector", "store"},
    KnownKey{"collector", "listen"},
    KnownKey{"collector", "token"},
    KnownKey{"collector", "trusted-certs"},
    KnownKey{"collector", "dkim"},
    KnownKey{"collector", "dkim-alignment"},
    KnownKey{"collector", "dkim-keys"},
    KnownKey{"collector", "verify-at"},
    KnownKey{"collector", "at"},
    KnownKey{"collector", "tls-cert"},
    KnownKey{"collector", "tls-key"},
    KnownKey{"collector", "max-body"},
    KnownKey{"collector", "max-message-size"},
    KnownKey{"collector", "max-mime-depth"},
    KnownKey{"collector", "max-mime-parts"},
    KnownKey{"collector", "threads"},
    KnownKey{"collector", "max-connections"},
    KnownKey{"collector", "allow-no-token"},
    KnownKey{"webapp", "x-messagesystems-webhook-token"},
    KnownKey{"webapp", "user-certs-dir"},
    KnownKey{"webapp", "trusted-certs"},
    KnownKey{"plugins", "dir"},
    KnownKey{"plugins", "load"},
    KnownKey{"serve", "listen"},
    KnownKey{"serve", "tls-cert"},
    KnownKey{"serve", "tls-key"},
    KnownKey{"serve", "allow"},
    KnownKey{"serve", "max-message-size"},
    KnownKey{"serve", "threads"},
    KnownKey{"serve", "max-connections"},
    KnownKey{"serve", "shutdown-timeout"},
};

struct ParseState {
    Config* config;
    std::map<std::string, std::map<std::string, std::string>>* values;
    std::vector<std::string>* warnings;
    const std::string* path;
};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

int on_value(void* user, const char* section, const char* name, const char* value) {
    auto* st = static_cast<ParseState*>(user);
    std::string sec = lower(section), key = lower(name);
    if (!is_known_config_key(sec, key)) {
        st->warnings->push_back(*st->path + ": unknown key '" + key + "' in section [" + sec +
                                "] (ignored)");
    }
    (*st->values)[sec][key] = value;
    return 1;
}

}  // namespace

bool is_known_config_key(const std::string& section, const std::string& key) {
    return std::any_of(kKnownKeys.begin(), kKnownKeys.end(), [&](const KnownKey& k) {
        return k.section == section && k.key == key;
    });
}

Config Config::load(const std::string& path) {
    Config c;
    c.path_ = path;
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) fail(ErrorKind::Config, "config: cannot open " + path + ": " + std::strerror(errno));
    ParseState st{&c, &c.file_, &c.warnings_, &c.path_};
    int rc = ini_parse_file(f, on_value, &st);
    std::fclose(f);
    if (rc > 0)
        fail(ErrorKind::Config, "config: " + path + " line " + std::to_string(rc) + ": syntax error");
    if (rc < 0) fail(ErrorKind::Config, "config: cannot read " + path);
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
    std::string suffix = lower(v->substr(used));
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

void Config::set(const std::string& section, const std::string& key, const std::string& value) {
    flags_[section][key] = value;
}

std::map<std::string, std::string> Config::section(const std::string& name) const {
    std::map<std::string, std::string> out;
    if (auto s = file_.find(name); s != file_.end()) out = s->second;
    if (auto s = flags_.find(name); s != flags_.end())
        for (const auto& [k, v] : s->second) out[k] = v;
    return out;
}

}  // namespace sealpost
