// input_reader.cpp: files and standard input, bounded.
#include "input_reader.hpp"

#include <cstdio>

#include "atomic_file.hpp"
#include "errors.hpp"

namespace sealpost {

std::string read_input_head(const std::string& name, std::size_t max_bytes) {
    if (name == "-") {
        std::string data;
        char buf[65536];
        std::size_t n;
        while (data.size() <= max_bytes && (n = std::fread(buf, 1, sizeof buf, stdin)) > 0) data.append(buf, n);
        if (data.size() > max_bytes + 1) data.resize(max_bytes + 1);
        return data;
    }
    auto data = read_file_head(name, max_bytes);
    if (!data) fail(ErrorKind::NoInput, name + ": no such file");
    return std::move(*data);
}

std::string read_input(const std::string& name, std::size_t max_bytes) {
    std::string data = read_input_head(name, max_bytes);
    if (data.size() > max_bytes)
        fail(ErrorKind::Limit, input_label(name) + " is larger than " + std::to_string(max_bytes) + " bytes");
    return data;
}

std::string input_label(const std::string& name) { return name == "-" ? "(standard input)" : name; }

std::string without_input_name(const std::string& what, const std::string& name) {
    for (const std::string& prefix : {name + ": ", input_label(name) + ": "})
        if (what.rfind(prefix, 0) == 0) return what.substr(prefix.size());
    return what;
}

}  // namespace sealpost
