// input_reader.hpp: the one way a command reads a message it was given:
// a file name, or "-" for standard input. Never reads much past the limit:
// a file far over it is not read at all.
#pragma once

#include <cstddef>
#include <string>

namespace sealpost {

// At most max_bytes + 1 bytes of FILE (or stdin for "-"), so the caller can
// tell "over the limit" and say so in its own terms. Throws Error(NoInput)
// naming the file when it is missing or unreadable.
std::string read_input_head(const std::string& name, std::size_t max_bytes);

// The whole input; Error(Limit) when it is larger than max_bytes.
std::string read_input(const std::string& name, std::size_t max_bytes);

// "(standard input)" for "-", else the name: for log lines.
std::string input_label(const std::string& name);

// An error of read_input about `name` without its "NAME: " prefix, for a
// line that names the input already (a Trace opened with it, a "FILE:"
// verdict line): never "x.eml: x.eml: no such file".
std::string without_input_name(const std::string& what, const std::string& name);

}  // namespace sealpost
