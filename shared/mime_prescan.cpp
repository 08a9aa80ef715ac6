// mime_prescan.cpp: line scan with a stack of open boundaries.
#include "ascii.hpp"
#include "byte_scan.hpp"
#include "mime_prescan.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace sealpost {
namespace {

constexpr std::size_t kMaxBoundary = 200;  // RFC 2046 allows 70; be generous

std::size_t ifind(std::string_view s, std::string_view needle) {
    if (needle.size() > s.size()) return std::string_view::npos;
    for (std::size_t i = 0; i + needle.size() <= s.size(); ++i)
        if (istarts_with(s.substr(i), needle)) return i;
    return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// The boundary parameter of an unfolded Content-Type value ("" when none).
std::string boundary_of(std::string_view value) {
    std::size_t at = ifind(value, "boundary");
    while (at != std::string_view::npos) {
        std::string_view rest = value.substr(at + 8);
        rest = trim(rest);
        if (!rest.empty() && rest.front() == '=') {
            rest = trim(rest.substr(1));
            std::string b;
            if (!rest.empty() && rest.front() == '"') {
                for (std::size_t i = 1; i < rest.size() && rest[i] != '"' && b.size() < kMaxBoundary; ++i) {
                    if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
                    b += rest[i];
                }
            } else {
                for (char c : rest) {
                    if (c == ';' || c == ' ' || c == '\t' || b.size() >= kMaxBoundary) break;
                    b += c;
                }
            }
            return b;
        }
        std::size_t next = ifind(value.substr(at + 8), "boundary");
        at = next == std::string_view::npos ? next : at + 8 + next;
    }
    return {};
}

struct Level {
    std::string boundary;  // "" for a message/* level
};

}  // namespace

PrescanResult prescan_mime(std::string_view raw, int stop_at_depth, int stop_at_delimiters) {
    PrescanResult r;
    std::vector<Level> stack;
    std::size_t pos = 0;
    auto next_line = [&](std::string_view& line) {
        if (pos >= raw.size()) return false;
        std::size_t nl = raw.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? raw.size() : nl;
        line = raw.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = nl == std::string_view::npos ? raw.size() : nl + 1;
        return true;
    };
    // Only a line that starts a Content-Type field or a delimiter changes
    // anything below; the others are not looked at.
    auto next_line_to_look_at = [&](std::string_view& line) {
        pos = find_line_start(raw, pos, "-cC");  // a delimiter, a Content-Type field
        return next_line(line);
    };
    std::string_view line;
    bool have = next_line_to_look_at(line);
    while (have) {
        if (istarts_with(line, "content-type:")) {
            // Unfold the header: continuation lines start with white space.
            std::string value(line.substr(13));
            std::string_view cont;
            have = next_line(cont);
            while (have && !cont.empty() && (cont.front() == ' ' || cont.front() == '\t') &&
                   value.size() < 64 * 1024) {
                value += cont;
                have = next_line(cont);
            }
            std::string_view v = trim(value);
            if (istarts_with(v, "multipart/")) {
                stack.push_back(Level{boundary_of(v)});
            } else if (istarts_with(v, "message/")) {
                stack.push_back(Level{});
            }
            r.max_depth = std::max(r.max_depth, static_cast<int>(stack.size()));
            if (r.max_depth > stop_at_depth) return r;
            line = cont;
            continue;
        }
        if (line.size() > 2 && line[0] == '-' && line[1] == '-' && !stack.empty()) {
            std::string_view rest = line.substr(2);
            for (std::size_t i = stack.size(); i-- > 0;) {
                const std::string& b = stack[i].boundary;
                if (b.empty() || !rest.starts_with(b)) continue;
                bool closing = rest.substr(b.size()).starts_with("--");
                stack.resize(closing ? i : i + 1);
                if (++r.delimiters > stop_at_delimiters) return r;
                break;
            }
        }
        have = next_line_to_look_at(line);
    }
    return r;
}

std::optional<std::string> prescan_problem(std::string_view raw, int max_depth, int max_parts) {
    // The top-level entity counts as depth 1 in mime_shape(); a multipart
    // adds one level for its children.
    PrescanResult r = prescan_mime(raw, max_depth, max_parts);
    if (r.max_depth >= max_depth)
        return "MIME nesting deeper than " + std::to_string(max_depth) + " (seen before parsing)";
    if (r.delimiters > max_parts)
        return "more than " + std::to_string(max_parts) + " MIME parts (seen before parsing)";
    return std::nullopt;
}

}  // namespace sealpost
