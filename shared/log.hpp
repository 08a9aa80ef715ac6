// log.hpp: the application log (spdlog), shared by the host and every plugin
// through this library. Human readable, one line per step. The lines that
// belong to one message's processing follow its opening line and carry the
// "| " prefix, as the original tool's log did:
//   2026-11-24 10:00:00.123 INFO  send: statement.eml
//   2026-11-24 10:00:00.124 INFO  | from=alice@example.com signed=opaque
// Untrusted text goes through printable() before it reaches a line.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace sealpost {

struct LogOptions {
    std::string file;          // "" = no file; rotated daily, 10 days kept
    std::string level = "info";  // file level: trace|debug|info|warn|error
    bool verbose = false;      // stderr shows debug
    bool quiet = false;        // stderr shows warnings and errors only
};

// Installs the sealpost logger (stderr + optional daily file). Throws
// Error(Config) on a bad level or an unwritable log file.
void setup_logging(const LogOptions& options);

// The process-wide logger (a stderr-only default until setup_logging).
std::shared_ptr<spdlog::logger> log();

// Whether a line of this level reaches any sink (stderr or the file): the
// check before formatting a line that may be discarded. Lock-free.
bool log_wants(spdlog::level::level_enum level);

// Reopens the log file (SIGHUP).
void reopen_log();

// Untrusted text made safe for one log line: control characters and
// non-UTF-8 bytes become '?', cut to `max` bytes with "..." appended.
std::string printable(std::string_view text, std::size_t max = 200);

// The lines of one message's processing (or one webhook request): each
// starts with the same short id, in the manner of a Postfix queue id, so
// concurrent messages can be told apart; the opening line as given, every
// following line prefixed "| ":
//   INFO  9A3F01C2B7: send: statement.eml
//   INFO  9A3F01C2B7: | from=alice@example.com signed=opaque
class Trace {
public:
    // Logs the opening line under a new id.
    explicit Trace(std::string_view opening);
    // Continues the lines of the message with this id (no opening line):
    // for code that is handed a message, such as a transport.
    static Trace resume(std::string id);

    const std::string& id() const { return id_; }

    template <class... Args>
    void info(fmt::format_string<Args...> f, Args&&... args) {
        emit(spdlog::level::info, f, std::forward<Args>(args)...);
    }
    template <class... Args>
    void warn(fmt::format_string<Args...> f, Args&&... args) {
        emit(spdlog::level::warn, f, std::forward<Args>(args)...);
    }
    template <class... Args>
    void error(fmt::format_string<Args...> f, Args&&... args) {
        emit(spdlog::level::err, f, std::forward<Args>(args)...);
    }
    template <class... Args>
    void debug(fmt::format_string<Args...> f, Args&&... args) {
        emit(spdlog::level::debug, f, std::forward<Args>(args)...);
    }
    void write(spdlog::level::level_enum level, std::string_view line);

private:
    // Formats the line only when some sink will write it.
    template <class... Args>
    void emit(spdlog::level::level_enum level, fmt::format_string<Args...> f, Args&&... args) {
        if (log_wants(level)) write(level, fmt::format(f, std::forward<Args>(args)...));
    }
    struct Resume {};
    Trace(Resume, std::string id) : id_(std::move(id)) {}
    std::string id_;
};

}  // namespace sealpost
