// secret_file.hpp: reading a file that holds a secret (a private key, a
// passphrase) the way ssh does, without a check-then-open race: one open()
// with O_NOFOLLOW, fstat() of that descriptor (a regular file, owned by the
// user running sealpost or root, not readable or writable by group or
// others), then the read from the same descriptor.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace sealpost {

// The contents, or nullopt when the file does not exist. Throws
// Error(Permission) (exit 77) for a symbolic link, a file group or others can
// read, or one owned by another user; Error(Config) when it is not a regular
// file or cannot be read. `what` names the file in messages ("private key").
std::optional<std::string> read_secret_file(const std::filesystem::path& path, const std::string& what);

}  // namespace sealpost
