// atomic_file.hpp: whole-file writes that are never torn: write a temporary
// dot-file in the same directory, fsync it, rename it over the target, fsync
// the directory. A crash leaves the old file or the new one, never half.
// Fails with Error(TempFail) naming the path and errno text (disk full and
// friends are worth retrying).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace sealpost {

// sync_dir = false (with durable): fsync the file but not the directory, for
// a caller that writes another file into the same directory right after and
// fsyncs the directory then (one directory fsync persists both renames).
//
// tmp_subdir: where the temporary is written, relative to dir ("" = dir
// itself, as a dot-file). An MTA pickup directory gets ".tmp": a scanner
// that takes every file in the directory can never take a half-written one.
void write_file_atomic(const std::filesystem::path& dir, const std::string& name, std::string_view content,
                       bool durable = true, mode_t mode = 0644, bool sync_dir = true,
                       const std::string& tmp_subdir = "");

// Removes what crashed writers left: temporaries of write_file_atomic (in dir
// and in dir/tmp_subdir) whose writer process is gone and that are older than
// min_age, and any older than max_age whatever their writer. Returns how many
// were removed; never throws (a directory it cannot read is skipped).
std::size_t remove_stale_temporaries(const std::filesystem::path& dir, const std::string& tmp_subdir = "",
                                     std::chrono::seconds min_age = std::chrono::seconds(60),
                                     std::chrono::seconds max_age = std::chrono::hours(24));

// The name a temporary of write_file_atomic was written for (".a.crt.tmp.12.3"
// -> "a.crt"), or nullopt when `file_name` is not one.
std::optional<std::string> temporary_target(const std::string& file_name);

// fsync of a directory: makes the renames done in it durable. Error(TempFail).
void sync_directory(const std::filesystem::path& dir);

// Reads a whole file; nullopt when it does not exist; throws Error(NoInput)
// for other failures, Error(Input) when larger than max_bytes.
std::optional<std::string> read_file(const std::filesystem::path& path,
                                     std::size_t max_bytes = 64 * 1024 * 1024);

// Creates `dir` (and parents) when missing; throws Error(Config).
void ensure_directory(const std::filesystem::path& dir, mode_t mode = 0755);

}  // namespace sealpost
