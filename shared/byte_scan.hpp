// byte_scan.hpp: the two searches the MIME scanners run over every byte of
// every message, a block of bytes a step: a "--" (the canonical walk), and
// a line starting with one of a few bytes (the pre-scan's Content-Type
// fields and delimiters). A memchr per candidate costs more than the bytes
// it skips where candidates are dense (a statement's text has two dashes a
// line); a mask per block costs the same whatever the text. AVX2 (32 bytes)
// where the CPU has it, chosen once; SSE2 (16) on every other x86-64; a
// plain loop over the same blocks elsewhere. Tests run each against the
// others (byte_scan_test.cpp).
#pragma once

#include <cstddef>
#include <string_view>

namespace sealpost {

// The first i >= from with text[i] == first and text[i + 1] == second;
// text.size() when there is none. Both searches take from <= text.size().
std::size_t find_pair(std::string_view text, std::size_t from, char first, char second);

// The first line start at or after `from` (itself a line start: 0 or just
// after a '\n') whose first byte is one of `firsts` (1 to 3 bytes);
// text.size() when there is none.
std::size_t find_line_start(std::string_view text, std::size_t from, std::string_view firsts);

enum class ByteScan { Portable, Sse2, Avx2 };
bool byte_scan_available(ByteScan how);
// The same two, by the implementation named (it must be available).
std::size_t find_pair(ByteScan how, std::string_view text, std::size_t from, char first, char second);
std::size_t find_line_start(ByteScan how, std::string_view text, std::size_t from, std::string_view firsts);

}  // namespace sealpost
