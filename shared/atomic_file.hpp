// atomic_file.hpp: whole-file writes that are never torn: write a temporary
// dot-file in the same directory, fsync it, rename it over the target, fsync
// the directory. A crash leaves the old file or the new one, never half.
// Fails with Error(TempFail) naming the path and errno text (disk full and
// friends are worth retrying).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace sealpost {

// sync_dir = false (with durable): fsync the file but not the directory, for
// a caller that writes another file into the same directory right after and
// fsyncs the directory then (one directory fsync persists both renames).
void write_file_atomic(const std::filesystem::path& dir, const std::string& name, std::string_view content,
                       bool durable = true, mode_t mode = 0644, bool sync_dir = true);

// fsync of a directory: makes the renames done in it durable. Error(TempFail).
void sync_directory(const std::filesystem::path& dir);

// Reads a whole file; nullopt when it does not exist; throws Error(NoInput)
// for other failures, Error(Input) when larger than max_bytes.
std::optional<std::string> read_file(const std::filesystem::path& path,
                                     std::size_t max_bytes = 64 * 1024 * 1024);

// Creates `dir` (and parents) when missing; throws Error(Config).
void ensure_directory(const std::filesystem::path& dir, mode_t mode = 0755);

}  // namespace sealpost
