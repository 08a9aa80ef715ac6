// base64_writer.cpp: whole lines encoded in place, a straddling line gathered.
#include "base64_writer.hpp"

#include <algorithm>
#include <cstring>

#include "mime.hpp"

namespace sealpost {

void Base64LineWriter::add(std::string_view p) {
    bytes_in_ += p.size();
    if (held_ > 0) {
        std::size_t take = std::min(kLine - held_, p.size());
        if (take > 0) std::memcpy(line_ + held_, p.data(), take);
        held_ += take;
        p.remove_prefix(take);
        if (held_ < kLine) return;
        append_base64_lines(out_, line_, kLine);
        held_ = 0;
    }
    std::size_t whole = p.size() / kLine * kLine;
    append_base64_lines(out_, reinterpret_cast<const unsigned char*>(p.data()), whole);
    held_ = p.size() - whole;
    if (held_ > 0) std::memcpy(line_, p.data() + whole, held_);
}

std::string_view Base64LineWriter::take_partial_line() {
    std::string_view partial(reinterpret_cast<const char*>(line_), held_);
    held_ = 0;
    return partial;
}

void Base64LineWriter::finish() {
    if (held_ > 0) append_base64_lines(out_, line_, held_);
    held_ = 0;
}

void append_base64_lines(std::string& out, std::initializer_list<std::string_view> pieces) {
    std::size_t total = 0;
    for (auto p : pieces) total += p.size();
    out.reserve(out.size() + base64_lines_size(total));
    Base64LineWriter w(out);
    for (auto p : pieces) w.add(p);
    w.finish();
}

}  // namespace sealpost
