// io_floor_bench: what the file system alone costs `send` per message, the
// floor under its CPU time that the cryptographic limit leaves out. For each
// input file, in turn: open, fstat and read it whole into a buffer kept
// across files (as `send` reads), then write an output of --out-bytes into a
// new temporary in <out-dir>/.tmp and rename it into <out-dir> (as the
// outbox writes without fsync). No sealpost code runs: the syscalls only.
// Usage: io_floor_bench --in-dir DIR --out-dir DIR --out-bytes N (every
// regular file in --in-dir, in name order, is an input)
// Prints one JSON line: CPU seconds (user + system, this thread) per message
// for the reads and for the writes.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_util.hpp"

namespace {

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    if (out.empty()) throw std::runtime_error("no files in " + dir);
    return out;
}

void check(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Reads `path` whole into `buf` (grown, never shrunk); returns its size.
std::size_t read_whole(const std::string& path, std::vector<char>& buf) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    check(fd >= 0, "open " + path);
    struct stat st {};
    check(::fstat(fd, &st) == 0, "fstat " + path);
    auto size = static_cast<std::size_t>(st.st_size);
    if (buf.size() < size + 1) buf.resize(size + 1);
    std::size_t got = 0;
    for (ssize_t n; (n = ::read(fd, buf.data() + got, size + 1 - got)) > 0;) got += static_cast<std::size_t>(n);
    ::close(fd);
    return got;
}

void write_renamed(const std::string& dir, int i, const std::vector<char>& out) {
    std::string tmp = dir + "/.tmp/" + std::to_string(i) + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    check(fd >= 0, "open " + tmp);
    check(::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size()), "write " + tmp);
    ::close(fd);
    check(::rename(tmp.c_str(), (dir + "/" + std::to_string(i) + ".eml").c_str()) == 0, "rename " + tmp);
}

}  // namespace

int main(int argc, char** argv) try {
    bench::Args args(argc, argv);
    std::vector<std::string> files = files_in(args.str("in-dir"));
    std::string dir = args.str("out-dir");
    std::vector<char> out(static_cast<std::size_t>(args.num("out-bytes", 0)), 'A');
    std::filesystem::create_directories(dir + "/.tmp");
    std::vector<char> buf;
    read_whole(files.front(), buf);  // warm-up: the buffer's pages touched once
    double read_s = 0, write_s = 0;
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
        double c0 = thread_cpu_seconds();
        bytes += read_whole(files[i], buf);
        double c1 = thread_cpu_seconds();
        write_renamed(dir, static_cast<int>(i), out);
        write_s += thread_cpu_seconds() - c1;
        read_s += c1 - c0;
    }
    auto n = static_cast<double>(files.size());
    std::printf("{\"messages\": %zu, \"in_bytes\": %.0f, \"out_bytes\": %zu, \"read_cpu_s_per_msg\": %.7f, "
                "\"write_cpu_s_per_msg\": %.7f}\n",
                files.size(), static_cast<double>(bytes) / n, out.size(), read_s / n, write_s / n);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "io_floor_bench: %s\n", e.what());
    return 1;
}
