// corpus_files.hpp: every file under the directory an environment
// variable names, for the tests run by hand over a corpus (the fuzzers'
// in build/fuzz/corpus-*, a bench's inputs).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "atomic_file.hpp"

namespace sealpost {

// (path, bytes) of each regular file; nullopt when `variable` is unset.
inline std::optional<std::vector<std::pair<std::string, std::string>>> corpus_from_env(const char* variable) {
    const char* dir = std::getenv(variable);
    if (!dir) return std::nullopt;
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
        if (entry.is_regular_file()) files.emplace_back(entry.path().string(), read_file(entry.path().string()).value_or(""));
    return files;
}

}  // namespace sealpost
