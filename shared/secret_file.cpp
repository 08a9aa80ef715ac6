// secret_file.cpp: open once, fstat the descriptor, check, read.
#include "secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.hpp"

namespace sealpost {
namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

constexpr std::size_t kMaxSecretBytes = 1 << 20;

}  // namespace

std::optional<std::string> read_secret_file(const std::filesystem::path& path, const std::string& what) {
    const std::string p = path.string();
    Fd f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (f.fd < 0) {
        int err = errno;
        if (err == ENOENT) return std::nullopt;
        if (err == ELOOP)
            fail(ErrorKind::Permission, what + " " + p + " is a symbolic link; refused (put the file itself there, mode 600)");
        if (err == EACCES)
            fail(ErrorKind::Permission, "cannot open " + what + " " + p + ": " + std::strerror(err));
        fail(ErrorKind::Config, "cannot open " + what + " " + p + ": " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) fail(ErrorKind::Config, "cannot stat " + what + " " + p + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) fail(ErrorKind::Config, what + " " + p + " is not a regular file");
    if (st.st_mode & 077)
        fail(ErrorKind::Permission, what + " " + p + " is accessible by group or others; run: chmod 600 " + p);
    if (st.st_uid != ::geteuid() && st.st_uid != 0)
        fail(ErrorKind::Permission, what + " " + p + " is owned by uid " + std::to_string(st.st_uid) +
                                        ", not by the user running sealpost (uid " + std::to_string(::geteuid()) +
                                        "); run: chown $(id -u) " + p);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(ErrorKind::Config, "cannot read " + what + " " + p + ": " + std::strerror(errno));
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > kMaxSecretBytes) fail(ErrorKind::Config, what + " " + p + " is larger than 1 MiB");
    }
    return out;
}

}  // namespace sealpost
