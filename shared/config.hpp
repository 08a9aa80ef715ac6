// config.hpp: the one INI configuration file (inih) plus command-line
// overrides. Lookups go section -> key; a value set from a flag wins over the
// file. A section or key the program does not know is an error naming the
// file, the line and the closest known name, so a typo never falls back to a
// default silently. Fails with ErrorKind::Config.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sealpost {

class Config {
public:
    Config() = default;

    // Reads `path`; throws Error(Config) when it cannot be read or parsed,
    // or names an unknown section or key (the message names the file and the
    // line, and suggests the closest known name).
    static Config load(const std::string& path);

    // The value, flag first, then file. Empty strings count as set.
    std::optional<std::string> get(const std::string& section, const std::string& key) const;
    std::string get_or(const std::string& section, const std::string& key,
                       const std::string& fallback) const;
    // Integers and sizes ("10M", "512k"); throws Error(Config) naming the key.
    long long get_size(const std::string& section, const std::string& key, long long fallback) const;

    // yes/no, true/false, on/off, 1/0 (any case); throws Error(Config) otherwise.
    bool get_bool(const std::string& section, const std::string& key, bool fallback) const;

    // True when the value comes from a command-line flag.
    bool is_flag(const std::string& section, const std::string& key) const;

    // A command-line override: wins over the file.
    void set(const std::string& section, const std::string& key, const std::string& value);

    // Everything in a section (file values overlaid with flags).
    std::map<std::string, std::string> section(const std::string& name) const;

    // The names of every section set (file, then flags), e.g. "domain example.com".
    std::vector<std::string> sections() const;

    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::map<std::string, std::map<std::string, std::string>> file_;
    std::map<std::string, std::map<std::string, std::string>> flags_;
};

// True when (section, key) is a key sealpost understands.
bool is_known_config_key(const std::string& section, const std::string& key);

}  // namespace sealpost
