// base64_writer.hpp: base64 lines (76 columns, CRLF, as append_base64_lines)
// appended as the bytes arrive, in pieces of any size: the lines of their
// concatenation, which is never made. A large piece is encoded where it
// lies (der_splice.hpp), or block by block as OpenSSL produces it
// (cms_content_sink.hpp).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace sealpost {

class Base64LineWriter {
public:
    static constexpr std::size_t kLine = 57;  // bytes per 76-column line

    explicit Base64LineWriter(std::string& out) : out_(out) {}
    void add(std::string_view bytes);
    void finish();  // the last, short line; call once, after the last add
    std::size_t bytes_in() const { return bytes_in_; }

    // For an encoder that writes whole lines itself (aes_cbc_base64.hpp):
    // the bytes of the unfinished line, handed over to begin its first line
    // (valid until the next add), and the count of the new bytes its whole
    // lines hold. The writer is then at a line start; add() goes on there.
    std::string_view take_partial_line();
    void count_whole_lines(std::size_t bytes) { bytes_in_ += bytes; }

private:
    std::string& out_;
    unsigned char line_[kLine];
    std::size_t held_ = 0;  // bytes of an unfinished line in line_
    std::size_t bytes_in_ = 0;
};

// The same for pieces at hand, `out` grown once for all of them.
void append_base64_lines(std::string& out, std::initializer_list<std::string_view> pieces);

}  // namespace sealpost
