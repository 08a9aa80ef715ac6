// outbox_check.cpp: create-and-remove probe of the outbox directory.
#include "outbox_check.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace sealpost {
namespace {

std::atomic<unsigned> g_probe{0};

std::string fix_text(const std::filesystem::path& dir) {
    return " (give the user running sealpost (uid " + std::to_string(::geteuid()) + ") write access to " +
           dir.string() + ", or set another --out-dir / [relay] out-dir)";
}

}  // namespace

std::optional<std::string> outbox_unwritable_reason(const std::filesystem::path& dir, unsigned mode) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) return "outbox " + dir.string() + " cannot be created: " + ec.message() + fix_text(dir);
        ::chmod(dir.c_str(), static_cast<mode_t>(mode));
    }
    auto probe = dir / (".sealpost-probe." + std::to_string(::getpid()) + "." + std::to_string(g_probe++));
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = errno;
        // Out of space or inodes is temporary, not a configuration problem.
        if (err == ENOSPC || err == EDQUOT || err == EINTR || err == EMFILE || err == ENFILE) return std::nullopt;
        return "outbox " + dir.string() + " is not writable: " + std::strerror(err) + fix_text(dir);
    }
    ::close(fd);
    ::unlink(probe.c_str());
    return std::nullopt;
}

}  // namespace sealpost
