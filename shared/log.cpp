// log.cpp: logger set-up (stderr + daily rotating file), printable().
#include "log.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/daily_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

#include "errors.hpp"

namespace sealpost {
namespace {

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %-5* %v";

// The level in capitals (INFO, WARN), as the original tool's log showed it.
class UpperLevel final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        static constexpr std::string_view names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRIT", "OFF"};
        auto n = names[static_cast<int>(msg.level)];
        dest.append(n.data(), n.data() + n.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<UpperLevel>(); }
};

void apply_pattern(spdlog::logger& logger) {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<UpperLevel>('*').set_pattern(kPattern);
    logger.set_formatter(std::move(f));
}

std::mutex g_mutex;
std::shared_ptr<spdlog::logger> g_logger;
// The lowest level any sink writes (info until setup_logging): a Trace line
// below it is neither formatted nor handed to the logger (issue 14: the
// collector's per-message lines that `-q` discards were 4 % of serve's CPU).
std::atomic<int> g_lowest_level{spdlog::level::info};
std::shared_ptr<spdlog::sinks::daily_file_sink_mt> g_file_sink;
LogOptions g_options;

std::shared_ptr<spdlog::logger> make_default() {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("sealpost", sink);
    apply_pattern(*logger);
    logger->set_level(spdlog::level::info);
    return logger;
}

spdlog::level::level_enum parse_level(const std::string& name) {
    auto l = spdlog::level::from_str(name);
    if (l == spdlog::level::off && name != "off")
        fail(ErrorKind::Config, "log: unknown level '" + name +
                                    "' (use trace, debug, info, warn, error, off)");
    return l;
}

void install(const LogOptions& o) {
    auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    err->set_level(o.quiet ? spdlog::level::warn
                           : o.verbose ? spdlog::level::debug : spdlog::level::info);
    std::vector<spdlog::sink_ptr> sinks{err};
    g_file_sink.reset();
    if (!o.file.empty()) {
        try {
            // Rotates at midnight, keeps 10 files (ten days), as the original did.
            g_file_sink = std::make_shared<spdlog::sinks::daily_file_sink_mt>(o.file, 0, 0, false, 10);
        } catch (const spdlog::spdlog_ex& e) {
            fail(ErrorKind::Config, "log: cannot open log file " + o.file + ": " + e.what());
        }
        g_file_sink->set_level(parse_level(o.level));
        sinks.push_back(g_file_sink);
    }
    auto logger = std::make_shared<spdlog::logger>("sealpost", sinks.begin(), sinks.end());
    apply_pattern(*logger);
    auto lowest = err->level();
    if (g_file_sink) lowest = std::min(lowest, g_file_sink->level());
    logger->set_level(lowest);
    g_lowest_level.store(lowest, std::memory_order_relaxed);
    logger->flush_on(spdlog::level::info);
    g_logger = logger;
}

}  // namespace

void setup_logging(const LogOptions& options) {
    parse_level(options.level);
    std::lock_guard lock(g_mutex);
    g_options = options;
    install(options);
}

void reopen_log() {
    std::lock_guard lock(g_mutex);
    if (!g_options.file.empty()) install(g_options);
}

bool log_wants(spdlog::level::level_enum level) {
    return level >= g_lowest_level.load(std::memory_order_relaxed);
}

std::shared_ptr<spdlog::logger> log() {
    std::lock_guard lock(g_mutex);
    if (!g_logger) g_logger = make_default();
    return g_logger;
}

std::string printable(std::string_view text, std::size_t max) {
    std::string out;
    out.reserve(std::min(text.size(), max) + 3);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) {
            out += '?';
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            // Keep well-formed UTF-8 sequences, replace anything else.
            std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            bool ok = len > 0 && i + len <= text.size();
            for (std::size_t k = 1; ok && k < len; ++k)
                ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
            if (ok) {
                out.append(text.substr(i, len));
                i += len - 1;
            } else {
                out += '?';
            }
        }
    }
    return out;
}

namespace {

// Ten upper-case hex digits: the time in microseconds mixed with a counter,
// unique within a process and unlikely to repeat across processes.
std::string new_trace_id() {
    static std::atomic<std::uint64_t> counter{0};
    auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    std::uint64_t v = (now << 12) ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ULL) ^ static_cast<std::uint64_t>(::getpid());
    return fmt::format("{:010X}", v & 0xFFFFFFFFFFULL);
}

}  // namespace

Trace::Trace(std::string_view opening) : id_(new_trace_id()) {
    if (log_wants(spdlog::level::info)) log()->info("{}: {}", id_, opening);
}

Trace Trace::resume(std::string id) { return Trace(Resume{}, std::move(id)); }

void Trace::write(spdlog::level::level_enum level, std::string_view line) {
    if (!log_wants(level)) return;
    if (id_.empty()) log()->log(level, "| {}", line);
    else log()->log(level, "{}: | {}", id_, line);
}

}  // namespace sealpost
