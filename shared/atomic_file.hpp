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
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "group_sync.hpp"

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
// The same with the content in pieces, written with writev (no joining copy).
void write_file_atomic(const std::filesystem::path& dir, const std::string& name,
                       std::span<const std::string_view> parts, bool durable = true, mode_t mode = 0644,
                       bool sync_dir = true, const std::string& tmp_subdir = "");

// Removes what crashed writers left: temporaries of write_file_atomic (in dir
// and in dir/tmp_subdir) whose writer process is gone and that are older than
// min_age, and any older than max_age whatever their writer. Returns how many
// were removed; never throws (a directory it cannot read is skipped).
std::size_t remove_stale_temporaries(const std::filesystem::path& dir, const std::string& tmp_subdir = "",
                                     std::chrono::seconds min_age = std::chrono::seconds(60),
                                     std::chrono::seconds max_age = std::chrono::hours(24));

// A group of atomic whole-file writes made durable together (group commit:
// the webhook's batch, CertStore::put_batch). stage() writes a temporary
// dot-file beside its target and nothing else (no fsync, no rename);
// commit() then, in this order: makes every temporary durable (one fsync
// each, or one syncfs and one fsync for the group when that is complete
// and cheap: group_sync.hpp; sync_used() tells which), and for each phase
// in increasing order renames that phase's temporaries into place (in
// staging order) and fsyncs each directory they went to, once. So every
// file is complete on disk before its name appears (a crash never shows a
// torn file), a name of phase N is never durable before every name of the
// phases below it (the history before the commit point), and when
// commit() returns everything is durable.
// remove_after_commit() names files unlinked after the renames (not
// fsynced: a file left by a crash there must be harmless). Destroyed
// without commit(), or after commit() failed, the temporaries not renamed
// are removed. durable = false: no fsync at all (tests, --no-fsync).
// Not thread-safe (one group per writer); Error(TempFail) naming the path.
class AtomicFileGroup {
public:
    explicit AtomicFileGroup(bool durable = true) : durable_(durable) {}
    ~AtomicFileGroup();
    AtomicFileGroup(const AtomicFileGroup&) = delete;
    AtomicFileGroup& operator=(const AtomicFileGroup&) = delete;

    void stage(const std::filesystem::path& dir, const std::string& name, std::string_view content,
               int phase = 0, mode_t mode = 0644);
    void remove_after_commit(std::filesystem::path file);
    // Also fsync `dir` with the directories of `phase` (a directory created
    // for the group: its name in the parent must be durable too).
    void also_sync(std::filesystem::path dir, int phase);
    void commit();

    std::size_t staged() const { return files_.size(); }
    // How the last commit() made the temporaries durable.
    GroupSync sync_used() const { return sync_used_; }

private:
    struct File {
        std::filesystem::path dir, tmp, target;
        int phase = 0;
        int fd = -1;
        bool renamed = false;
    };
    std::optional<long> shared_filesystem_type() const;
    GroupSync make_temporaries_durable();

    bool durable_;
    GroupSync sync_used_ = GroupSync::FsyncEach;
    std::vector<File> files_;
    std::vector<std::filesystem::path> removals_;
    std::vector<std::pair<std::filesystem::path, int>> extra_dirs_;
};

// The name a temporary of write_file_atomic was written for (".a.crt.tmp.12.3"
// -> "a.crt"), or nullopt when `file_name` is not one.
std::optional<std::string> temporary_target(const std::string& file_name);

// fsync of a directory: makes the renames done in it durable. Error(TempFail).
void sync_directory(const std::filesystem::path& dir);

// Reads a whole file; nullopt when it does not exist; throws Error(NoInput)
// for other failures, Error(Input) when larger than max_bytes.
std::optional<std::string> read_file(const std::filesystem::path& path,
                                     std::size_t max_bytes = 64 * 1024 * 1024);
// The same for a regular file only (a FIFO or a device is Error(NoInput)),
// and a file over max_bytes is no error: at most max_bytes + 1 bytes come
// back (a file far over it is not read: that many zero bytes).
std::optional<std::string> read_file_head(const std::filesystem::path& path, std::size_t max_bytes);

// Creates `dir` (and parents) when missing; throws Error(Config).
void ensure_directory(const std::filesystem::path& dir, mode_t mode = 0755);

}  // namespace sealpost
