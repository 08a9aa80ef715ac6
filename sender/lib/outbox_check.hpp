// outbox_check.hpp: can we create files in the outbox? Checked when an
// outbox transport is made (so `send` fails before reading any message and
// `serve` before it listens) and again after a write fails, to tell a
// permanent configuration problem (permissions, a read-only file system, a
// path through a regular file: exit 73, EX_CANTCREAT) from a temporary one
// (disk full: retry later).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace sealpost {

// Creates `dir` (mode `mode`) when missing, then creates and removes a
// dot-file in it. nullopt when that works; otherwise a message naming the
// directory, the reason and the fix.
std::optional<std::string> outbox_unwritable_reason(const std::filesystem::path& dir, unsigned mode = 0750);

}  // namespace sealpost
