// canonical_prepare_test.cpp: prepare_canonical (no GMime) against
// prepare_with_gmime, byte for byte, wherever the former answers; and the
// shapes it must leave to GMime. SEALPOST_CANONICAL_CORPUS=<dir> adds
// every file of a directory (e.g. the fuzzers' corpora, build/fuzz/corpus-*),
// run by hand over many inputs; SEALPOST_CANONICAL_SHAKES=<n>, n random
// messages instead of 3,000, and SEALPOST_CANONICAL_DUMP=<dir> writes the
// canonical ones there (seeds for send_fuzz).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "ascii.hpp"
#include "canonical_mime.hpp"
#include "corpus_files.hpp"
#include "errors.hpp"
#include "prepared_message.hpp"

using namespace sealpost;

namespace {

std::string crlf(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

std::string first_difference(const std::string& a, const std::string& b) {
    std::size_t at = 0;
    while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
    std::size_t from = at < 40 ? 0 : at - 40;
    return "at byte " + std::to_string(at) + "\n  canonical: " + ::testing::PrintToString(a.substr(from, 80)) +
           "\n  gmime:     " + ::testing::PrintToString(b.substr(from, 80));
}

// Both paths' results for `raw` agree wherever prepare_canonical answers.
// Returns whether it answered. The Date and Message-ID a message lacks are
// made up anew by each path, so the shapes here carry both.
bool agrees_with_gmime(const std::string& raw, const std::string& label) {
    std::optional<PreparedMessage> fast;
    try {
        fast = prepare_canonical(raw);
    } catch (const std::exception& e) {
        ADD_FAILURE() << label << ": prepare_canonical threw (it must answer nullopt instead): " << e.what();
        return false;
    }
    if (!fast) return false;
    PreparedMessage slow;
    try {
        slow = prepare_with_gmime(raw);
    } catch (const Error& e) {
        ADD_FAILURE() << label << ": canonical, but the GMime path refuses it: " << e.what();
        return true;
    }
    EXPECT_EQ(fast->from.address, slow.from.address) << label;
    EXPECT_EQ(fast->from.name, slow.from.name) << label;
    EXPECT_EQ(fast->recipients.size(), slow.recipients.size()) << label;
    for (std::size_t i = 0; i < std::min(fast->recipients.size(), slow.recipients.size()); ++i) {
        EXPECT_EQ(fast->recipients[i].address, slow.recipients[i].address) << label;
        EXPECT_EQ(fast->recipients[i].name, slow.recipients[i].name) << label;
    }
    EXPECT_EQ(fast->visible, slow.visible) << label;
    EXPECT_EQ(fast->reencoded_parts, slow.reencoded_parts) << label;
    bool has_date = false, has_id = false;
    const auto top = split_header_block(raw);  // named: the loop below reads its fields
    for (const HeaderField& f : top->fields) {
        has_date = has_date || iequals(f.name, "Date");
        has_id = has_id || iequals(f.name, "Message-ID");
    }
    if (has_id) {
        EXPECT_EQ(fast->message_id, slow.message_id) << label;
    }
    if (has_date && has_id) {
        EXPECT_EQ(fast->outer_headers, slow.outer_headers)
            << label << ": " << first_difference(fast->outer_headers, slow.outer_headers);
    }
    EXPECT_EQ(fast->entity, slow.entity) << label << ": " << first_difference(fast->entity, slow.entity)
                                         << "\n  input: " << ::testing::PrintToString(raw.substr(0, 2000));
    return true;
}

const std::string kHead =
    "From: Bank <statements@bank.example>\n"
    "To: Alice Example <alice@example.com>, bob@example.com\n"
    "Subject: Your statement\n"
    "  for November\n"
    "Date: Thu, 26 Nov 2026 10:00:00 +0000\n"
    "Message-ID: <s-1@bank.example>\n"
    "MIME-Version: 1.0\n";

std::string base64_block(std::size_t lines) {
    std::string out;
    for (std::size_t i = 0; i < lines; ++i)
        out += "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29k\n";
    return out;
}

// text + HTML + a base64 PDF: the shape of the statements in bench/.
std::string statement(std::string_view between_parts = "\n") {
    return kHead +
           "Content-Type: multipart/mixed; boundary=\"=_outer_1\"\n"
           "\n"
           "This is a multi-part message in MIME format.\n"
           "\n--=_outer_1\n"
           "Content-Type: multipart/alternative; boundary=\"=_alt_1\"\n"
           "\n"
           "--=_alt_1\n"
           "Content-Type: text/plain; charset=us-ascii\n"
           "Content-Transfer-Encoding: 7bit\n"
           "\n"
           "Dear customer,\nyour statement is attached.\n"
           "\n--=_alt_1\n"
           "Content-Type: text/html; charset=us-ascii\n"
           "Content-Transfer-Encoding: quoted-printable\n"
           "\n"
           "<p>Dear customer,</p>\n<p>your statement is attached.</p>\n"
           "\n--=_alt_1--" +
           std::string(between_parts) +
           "--=_outer_1\n"
           "Content-Type: application/pdf; name=statement.pdf\n"
           "Content-Disposition: attachment; filename=statement.pdf\n"
           "Content-Transfer-Encoding: base64\n"
           "\n" +
           base64_block(40) + "\n--=_outer_1--\n";
}

std::string text_message(std::string_view body) {
    return kHead + "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n" + std::string(body);
}

// Random messages near the edge of canonical: line ends of both kinds,
// folded and unspaced fields, nested multiparts with and without preamble,
// epilogue and the line end after a close delimiter, boundaries that are
// prefixes of each other, leaves of every encoding with lines that are
// almost delimiters, long, trailing white space, "From ", ".".
class MessageShaker {
public:
    explicit MessageShaker(unsigned seed) : rng_(seed) {}

    std::string message() {
        eol_ = pick({"\n", "\r\n"});
        mixed_ = chance(4);
        used_.clear();
        std::string m = line("From: " + pick({"a@example.com", "Alice <a@example.com>", "<a@example.com>", "Bank Ltd. <a@example.com>"}));
        m += line("To: " + pick({"b@example.com", "Bob B <b@example.com>, c@example.com", "<B@Example.COM>",
                                 "J. R. Bob <b@example.com>", "b@example.com,c@example.com", "b@example.com ,",
                                 "Bob\n B <b@example.com>", "b@example.com,\n c@example.com"}));
        if (chance(3)) m += line("Cc: " + pick({"c@example.com", "D <d@example.com>"}));
        if (chance(4)) m += line("Bcc: e@example.com");
        m += line(pick({"Subject: statement", "Subject:no space", "Subject: folded", "X-Tag:\tx", "X-Empty:",
                        "X-Spaces:   ", "X_Odd.Name-1: v", "Subject:  two spaces"}));
        if (chance(3)) m += line(pick({" continued", "\tcontinued", "  "}));
        m += line("Date: Thu, 26 Nov 2026 10:00:00 +0000");
        std::string id = "<m-" + std::to_string(rng_() % 1000) + "@example.com>";
        m += line(pick({"Message-ID: ", "Message-Id:", "Message-ID:  "}) + (chance(5) ? line("") + " " + id : id));
        if (chance(2)) m += line("MIME-Version: 1.0");
        return m + entity(0);
    }

private:
    bool chance(int one_in) { return rng_() % static_cast<unsigned>(one_in) == 0; }
    std::string pick(std::initializer_list<const char*> options) {
        return *(options.begin() + rng_() % options.size());
    }
    std::string line(const std::string& text) {
        return text + (mixed_ && chance(8) ? (eol_ == "\n" ? "\r\n" : "\n") : eol_);
    }

    std::string leaf() {
        std::string h = line("Content-Type: " + pick({"text/plain; charset=us-ascii", "text/html", "application/pdf; name=\"s.pdf\"",
                                                      "application/octet-stream", "TEXT/Plain"}));
        if (!chance(3)) h += line("Content-Transfer-Encoding: " + pick({"7bit", "base64", "quoted-printable", "8bit", "Base64"}));
        if (chance(4)) h += line("Content-Disposition: attachment; filename=s.pdf");
        if (chance(5)) h += line(pick({"X-Part: y", "Content-ID: <p1@example.com>", "content-description:folded", "X-Empty:"}));
        if (chance(6)) h += line(pick({" continued", "\tmore"}));
        std::string body;
        for (int n = static_cast<int>(rng_() % 6); n > 0; --n) {
            std::string text = pick({"", "hello", "--", "-- ", "--b", "--b1x", "trailing ", "From me", ".", "=3D", "QUFB--b1",
                                     "x--=_outer", "-----", "---b",
                                     "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURl",
                                     "x123456789x123456789x123456789x123456789x123456789x123456789x123456789x12345678"});
            body += n == 1 && chance(3) ? text : line(text);
        }
        return h + line("") + body;
    }

    std::string entity(int depth) {
        if (depth >= 3 || chance(3)) return leaf();
        std::string b = pick({"b", "b1", "=_outer", "----=_Part_1", "b1x", "=?b?="});
        if (used_.count(b) && !chance(4)) b += std::to_string(depth);
        used_.insert(b);
        std::string m = line("Content-Type: multipart/" + pick({"mixed", "alternative", "related; type=\"text/html\""}) +
                             pick({"; boundary=", ";\n boundary=", " ; Boundary=", ";boundary="}) +
                             (chance(2) ? "\"" + b + "\"" : b));
        m += line("");
        if (chance(2)) m += line(pick({"This is a multi-part message in MIME format.", ""}));
        for (int parts = 1 + static_cast<int>(rng_() % 3); parts > 0; --parts) {
            m += line("--" + b);
            std::string child = entity(depth + 1);
            m += child;
            if (!child.empty() && child.back() != '\n') m += eol_;
        }
        m += "--" + b + "--";
        if (!chance(4)) m += eol_;
        if (chance(3)) m += line(pick({"", "epilogue"}));
        return m;
    }

    std::mt19937 rng_;
    std::string eol_;
    bool mixed_ = false;  // some lines end the other way
    std::set<std::string> used_;
};

}  // namespace

TEST(CanonicalPrepare, RandomShapesAgreeWithGMime) {
    // SEALPOST_CANONICAL_SHAKES=<n> shakes more (by hand: 3,000 in the suite).
    const char* shakes = std::getenv("SEALPOST_CANONICAL_SHAKES");
    MessageShaker shaker(20261127);
    int canonical = 0, total = shakes ? std::atoi(shakes) : 3000;
    const char* dump = std::getenv("SEALPOST_CANONICAL_DUMP");  // seeds for send_fuzz
    for (int i = 0; i < total && !HasFailure(); ++i) {
        const std::string raw = shaker.message();
        if (!agrees_with_gmime(raw, "random message " + std::to_string(i))) continue;
        ++canonical;
        if (dump) std::ofstream(std::filesystem::path(dump) / ("shake-" + std::to_string(i)), std::ios::binary) << raw;
    }
    // Both sides of the line are exercised: the canonical path answers
    // for a good share, and leaves the rest.
    EXPECT_GT(canonical, total / 10);
    EXPECT_LT(canonical, total * 9 / 10);
    std::printf("%d of %d random messages canonical\n", canonical, total);
}

TEST(CanonicalPrepare, StatementsAgreeWithGMimeByteForByte) {
    EXPECT_TRUE(agrees_with_gmime(statement("\n\n"), "statement, LF"));
    EXPECT_TRUE(agrees_with_gmime(crlf(statement("\n\n")), "statement, CRLF"));
    EXPECT_TRUE(agrees_with_gmime(statement("\nepilogue of the inner part\n"), "statement, inner epilogue"));
    EXPECT_TRUE(agrees_with_gmime(statement("\n\n\n"), "statement, two blank lines after the inner end"));
    EXPECT_TRUE(agrees_with_gmime(statement("\n\n") + "an epilogue\n", "statement with an epilogue"));
    EXPECT_TRUE(agrees_with_gmime(statement("\n\n") + "an epilogue", "an epilogue without a line end"));
    EXPECT_TRUE(agrees_with_gmime(statement("\n\n") + "\n\n", "blank lines after the end"));
}

TEST(CanonicalPrepare, EveryDoubleDashIsSeenWhereverItFallsInABlock) {
    // The walk looks for "--" sixteen bytes a step: an open boundary named
    // inside a line is refused at every offset, a "--" naming none is not,
    // and the delimiters after a body of every length split it as GMime does.
    const std::string head = "From: a@example.com\nTo: b@example.com\nContent-Type: multipart/mixed; boundary=b\n\n"
                             "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: 7bit\n\n";
    for (std::size_t k = 0; k < 40; ++k) {
        const std::string pad(k, 'x');
        EXPECT_FALSE(prepare_canonical(head + pad + "--b trailing\n--b--\n").has_value()) << "offset " << k;
        EXPECT_FALSE(prepare_canonical(head + "line\n" + pad + "y--b\n--b--\n").has_value()) << "offset " << k;
        EXPECT_TRUE(agrees_with_gmime(head + pad + "y--c and-a-dash\n--b--\n", "no boundary, offset " + std::to_string(k)));
        EXPECT_TRUE(agrees_with_gmime(head + pad + "\n--b--\n", "body of " + std::to_string(k)));
        EXPECT_TRUE(agrees_with_gmime(crlf(head + pad + "\n--b--\n"), "CRLF, body of " + std::to_string(k)));
        EXPECT_TRUE(agrees_with_gmime(head + pad + "\n--b--", "no last line end, body of " + std::to_string(k)));
    }
}

TEST(CanonicalPrepare, EndDelimiterWithoutItsLineEndGetsOneAsGMimeWritesIt) {
    // GMime ends every close delimiter's line: the inner one directly
    // followed by the outer delimiter (the shape most mailers write), and
    // the last line of an input without a final line end.
    EXPECT_TRUE(agrees_with_gmime(statement(), "inner end directly before the outer delimiter"));
    EXPECT_TRUE(agrees_with_gmime(crlf(statement()), "the same, CRLF"));
    std::string no_final_newline = statement("\n\n");
    no_final_newline.pop_back();
    EXPECT_TRUE(agrees_with_gmime(no_final_newline, "no line end after the last delimiter"));
    no_final_newline = statement();
    no_final_newline.pop_back();
    EXPECT_TRUE(agrees_with_gmime(no_final_newline, "both"));
    // But with a CRLF before that last delimiter, GMime keeps the CR in the
    // last part's content: left to GMime.
    no_final_newline = crlf(statement("\n\n"));
    no_final_newline.resize(no_final_newline.size() - 2);
    EXPECT_FALSE(prepare_canonical(no_final_newline).has_value());
    EXPECT_NE(prepare_canonical(statement())->entity.find("--=_alt_1--\r\n\r\n--=_outer_1\r\n"), std::string::npos);
}

TEST(CanonicalPrepare, TextMessagesAgreeWithGMimeByteForByte) {
    EXPECT_TRUE(agrees_with_gmime(text_message("Hello.\nTwo lines.\n"), "text"));
    EXPECT_TRUE(agrees_with_gmime(text_message("No final line end"), "text, no final line end"));
    EXPECT_TRUE(agrees_with_gmime(text_message(""), "text, empty body"));
    EXPECT_TRUE(agrees_with_gmime(crlf(text_message("Hello.\n\n\n")), "text, CRLF, blank lines at the end"));
    EXPECT_TRUE(agrees_with_gmime(kHead + "Content-Type: text/plain\n\nshort\n", "no transfer encoding"));
    EXPECT_TRUE(agrees_with_gmime(kHead + "X-Mailer:no space\nContent-Type:text/plain\n\nbody\n", "no space after colons"));
    EXPECT_TRUE(agrees_with_gmime(kHead + "Content-Type: text/plain;\n\tcharset=us-ascii\n\nfolded\n", "folded Content-Type"));
    EXPECT_TRUE(agrees_with_gmime(
        "From: a@example.com\nTo: b@example.com\nCc: c@example.com, B@Example.com\nBcc: d@example.com\n"
        "Date: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <x@y>\nContent-Type: text/plain\n\nhi\n",
        "Cc and Bcc, a duplicate recipient"));
    EXPECT_TRUE(agrees_with_gmime(kHead + "Content-Type: application/octet-stream\n\nseven bit, no encoding\n",
                                  "7-bit application part"));
}

TEST(CanonicalPrepare, LeavesToGMimeWhatItWouldRewriteOrReadOtherwise) {
    const std::string ct = "Content-Type: text/plain\n\n";
    const std::pair<std::string, std::string> cases[] = {
        {"8-bit body", kHead + ct + "caf\xc3\xa9\n"},
        {"8-bit header", kHead + "X-Note: caf\xc3\xa9\n" + ct + "x\n"},
        {"lone CR", kHead + ct + "a\rb\n"},
        {"NUL", kHead + ct + std::string("a\0b\n", 4)},
        {"a text line over 76 columns", kHead + ct + std::string(77, 'x') + "\n"},
        {"trailing white space", kHead + ct + "x \n"},
        {"From at a line start", kHead + ct + "From here\n"},
        {"8bit transfer encoding", kHead + "Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\nx\n"},
        {"no Content-Type", kHead + "\nbody\n"},
        {"two Content-Types", kHead + "Content-Type: text/plain\n" + ct + "x\n"},
        {"message/rfc822", kHead + "Content-Type: message/rfc822\n\nFrom: a@b\n\nx\n"},
        {"a comment in Content-Type", kHead + "Content-Type: text/plain (note)\n\nx\n"},
        {"RFC 2231 parameter", kHead + "Content-Type: text/plain; charset*=us-ascii''x\n\nx\n"},
        {"quoted display name", "From: \"Bank, Ltd\" <s@bank.example>\nTo: a@example.com\n" + ct + "x\n"},
        {"encoded word", "From: =?utf-8?q?Bank?= <s@bank.example>\nTo: a@example.com\n" + ct + "x\n"},
        {"group", "From: s@bank.example\nTo: list: a@example.com;\n" + ct + "x\n"},
        {"two To fields", "From: s@bank.example\nTo: a@example.com\nTo: b@example.com\n" + ct + "x\n"},
        {"two Date fields", kHead + "Date: Thu, 26 Nov 2026 10:00:00 +0000\n" + ct + "x\n"},
        {"no From", "To: a@example.com\n" + ct + "x\n"},
        {"a line that is not a field", kHead + "not a field\n" + ct + "x\n"},
        {"no blank line", kHead + "Content-Type: text/plain\n"},
        {"mbox From line", "From bank Thu Nov 26 10:00:00 2026\n" + kHead + ct + "x\n"},
        {"missing end delimiter", kHead + "Content-Type: multipart/mixed; boundary=b\n\n--b\n" + ct + "x\n"},
        {"delimiter with white space", kHead + "Content-Type: multipart/mixed; boundary=b\n\n--b \n" + ct + "x\n--b--\n"},
        {"a line starting like a delimiter",
         kHead + "Content-Type: multipart/mixed; boundary=b\n\n--b\n" + ct + "--bx\n--b--\n"},
        {"no parts", kHead + "Content-Type: multipart/mixed; boundary=b\n\n--b--\n"},
        {"empty part", kHead + "Content-Type: multipart/mixed; boundary=b\n\n--b\n--b--\n"},
        {"nested boundary a prefix of the outer",
         kHead + "Content-Type: multipart/mixed; boundary=ab\n\n--ab\nContent-Type: multipart/mixed; boundary=a\n\n--a\n" +
             ct + "x\n--a--\n--ab--\n"},
        {"boundary with a space", kHead + "Content-Type: multipart/mixed; boundary=\"a b\"\n\n--a b\n" + ct + "x\n--a b--\n"},
        {"multipart without a boundary", kHead + "Content-Type: multipart/mixed\n\n--b\n" + ct + "x\n--b--\n"},
    };
    for (const auto& [label, raw] : cases) {
        EXPECT_FALSE(prepare_canonical(raw).has_value()) << label;
        // And prepare_message still reads (or refuses) it through GMime.
        try {
            (void)prepare_message(raw);
        } catch (const Error&) {
        }
    }
}

// Found by a hostile review: each is answered by GMime otherwise than the
// canonical reading would, so each is left to GMime.
TEST(CanonicalPrepare, ReviewFindingsAreLeftToGMime) {
    const std::string head = "From: a@example.com\nTo: b@example.com\n";
    const std::string mixed = head + "Content-Type: multipart/mixed; boundary=b\n\n";
    const std::string leaf = "--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n";
    auto pad_to_4096 = [](std::string s) { return s + std::string(4096 - s.size(), 'A'); };
    const std::pair<std::string, std::string> cases[] = {
        // GMime reads a long line in pieces at its 4 KB buffer's edges and
        // takes a piece starting "--b" for a delimiter.
        {"delimiter inside a long base64 line", pad_to_4096(mixed + leaf) + "--b\nQUFB\n--b--\n"},
        {"delimiter inside a long preamble line", pad_to_4096(mixed) + "--b\n--b\nContent-Type: text/plain\n\nhi\n--b--\n"},
        {"a short line with the delimiter inside", mixed + leaf + "QUFB--b\n--b--\n"},
        // GMime gives up on a field name near its buffer's size.
        {"field name of 5,000 bytes", head + std::string(5000, 'X') + ": v\nContent-Type: text/plain\n\nhi\n"},
        {"the same in a part", mixed + "--b\n" + std::string(5000, 'X') + ": v\nContent-Type: text/plain\n\nhi\n--b--\n"},
        // GMime decodes "=?...?=" in a parameter value.
        {"encoded word as the boundary",
         head + "Content-Type: multipart/mixed; boundary=\"=?us-ascii?q?b?=\"\n\n--=?us-ascii?q?b?=\n"
                "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nQUFB\n--=?us-ascii?q?b?=--\n"},
        // GMime keeps the fold inside a recipient's display name.
        {"folded display name", "From: a@example.com\nTo: Bob\n Smith <b@example.com>\nContent-Type: text/plain\n\nhi\n"},
        // A second review: GMime decodes punycode to Unicode with IDNA's
        // mappings (a fullwidth ',' becomes ','), and its second parse of
        // To/Cc/Bcc splits there.
        {"punycode that decodes to a comma", "From: a@example.com\nTo: Bob <b@xn--xcd-m16s5c.de>\nContent-Type: text/plain\n\nhi\n"},
        {"punycode in Bcc", "From: a@example.com\nTo: c@example.com\nBcc: b@XN--x-3ba.de\nContent-Type: text/plain\n\nhi\n"},
        // GMime decodes an encoded word in the Message-ID it reports.
        {"encoded word in the Message-ID",
         "From: a@example.com\nTo: b@example.com\nMessage-ID: <=?us-ascii?q?abc?=@x>\nContent-Type: text/plain\n\nhi\n"},
    };
    for (const auto& [label, raw] : cases) EXPECT_FALSE(prepare_canonical(raw).has_value()) << label;
    // Nine levels of multipart: within the limits, but deeper than the
    // canonical walk goes (each level scans its body again).
    std::string deep = head, tail;
    for (int level = 0; level < 9; ++level) {
        const std::string b = "b" + std::to_string(level);
        deep += "Content-Type: multipart/mixed; boundary=" + b + "\n\n--" + b + "\n";
        tail = "--" + b + "--\n" + tail;
    }
    deep += "Content-Type: text/plain\n\nhi\n" + tail;
    EXPECT_FALSE(prepare_canonical(deep).has_value());
    EXPECT_NO_THROW(prepare_message(deep));
    // Dashes everywhere, nested: each level would compare every "--" with
    // every open boundary (8x GMime's parse, measured); past a budget of
    // dashes the walk gives up. Canonical otherwise: no line names a
    // boundary.
    std::string dashes = head, close;
    for (int level = 0; level < 7; ++level) {
        const std::string b = std::string(68, '-') + static_cast<char>('a' + level);
        dashes += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\n\n--" + b + "\n";
        close = "--" + b + "--\n" + close;
    }
    dashes += "Content-Type: application/octet-stream\nContent-Transfer-Encoding: 7bit\n\n";
    for (int line = 0; line < 20000; ++line) dashes += std::string(70, '-') + "\n";
    dashes += close;
    EXPECT_FALSE(prepare_canonical(dashes).has_value());
    EXPECT_NO_THROW(prepare_message(dashes));
}

TEST(CanonicalPrepare, LimitsAreLeftToGMimesRefusal) {
    MimeLimits limits;
    limits.max_parts = 2;
    const std::string raw = statement();
    EXPECT_FALSE(prepare_canonical(raw, limits).has_value());
    EXPECT_THROW(prepare_message(raw, limits), Error);
    limits = {};
    limits.max_bytes = raw.size() - 1;
    EXPECT_FALSE(prepare_canonical(raw, limits).has_value());
    EXPECT_THROW(prepare_message(raw, limits), Error);
}

TEST(CanonicalPrepare, HeaderBlockSplitsFieldsFoldsAndBody) {
    auto block = split_header_block("A: 1\r\nB:\r\n  2\r\n\tthree\r\n\r\nbody\r\n");
    ASSERT_TRUE(block);
    ASSERT_EQ(block->fields.size(), 2u);
    EXPECT_EQ(block->fields[0].name, "A");
    EXPECT_EQ(block->fields[1].value, "\r\n  2\r\n\tthree");
    EXPECT_EQ(block->fields[1].whole, "B:\r\n  2\r\n\tthree");
    EXPECT_EQ(unfolded(block->fields[1].value), "2\tthree");
    EXPECT_EQ(block->body, "body\r\n");
    EXPECT_FALSE(split_header_block(" folded first: x\n\nbody"));
    EXPECT_FALSE(split_header_block("A: 1\nB: 2\n"));
    EXPECT_FALSE(split_header_block("A: 1\n\r"));
    EXPECT_FALSE(split_header_block("A B: 1\n\nx"));
}

TEST(CanonicalPrepare, EntityBufferIsMadeOnceAtItsSize) {
    // Short LF lines grow most on the way to CRLF: 40,000 of them.
    std::string body;
    for (int i = 0; i < 40000; ++i) body += "ab\n";
    auto pm = prepare_canonical(kHead + "Content-Type: application/octet-stream\nContent-Transfer-Encoding: 7bit\n\n" + body);
    ASSERT_TRUE(pm);
    EXPECT_EQ(pm->entity.size(), 75u + 4 * 40000u);  // two fields, a blank line, 40,000 x "ab\r\n"
    EXPECT_LT(pm->entity.capacity(), pm->entity.size() + 256) << "the entity's buffer grew (a copy) or was made too large";
}

TEST(CanonicalPrepare, LineEndsAreSevenBitAndAllAlike) {
    EXPECT_EQ(seven_bit_line_ends("a\nb\n"), LineEnds::Lf);
    EXPECT_EQ(seven_bit_line_ends("a\r\nb\r\n"), LineEnds::Crlf);
    EXPECT_EQ(seven_bit_line_ends("no line end"), LineEnds::Lf);
    EXPECT_EQ(seven_bit_line_ends("\r\n"), LineEnds::Crlf);
    EXPECT_FALSE(seven_bit_line_ends("a\r\nb\n"));
    EXPECT_FALSE(seven_bit_line_ends("\na\r\n"));
    EXPECT_FALSE(seven_bit_line_ends("a\rb\r\n"));
    EXPECT_FALSE(seven_bit_line_ends("a\r"));
    EXPECT_FALSE(seven_bit_line_ends(std::string("a\0b", 3)));
    EXPECT_FALSE(seven_bit_line_ends("caf\xc3\xa9"));
    EXPECT_FALSE(seven_bit_line_ends("\x80"));
    // Every position of a long buffer is checked, not only whole blocks.
    std::string text(1000, 'x');
    for (std::size_t at : {0, 1, 15, 16, 31, 32, 63, 64, 500, 998, 999}) {
        std::string bad = text;
        bad[at] = '\xff';
        EXPECT_FALSE(seven_bit_line_ends(bad)) << at;
        bad[at] = '\r';
        EXPECT_FALSE(seven_bit_line_ends(bad)) << at;
    }
}

TEST(CanonicalPrepare, CorpusFromTheEnvironment) {
    auto corpus = corpus_from_env("SEALPOST_CANONICAL_CORPUS");
    if (!corpus) GTEST_SKIP() << "set SEALPOST_CANONICAL_CORPUS=<dir> to run over a corpus";
    int canonical = 0;
    for (const auto& [path, bytes] : *corpus) canonical += agrees_with_gmime(bytes, path) ? 1 : 0;
    std::printf("%zu files, %d canonical\n", corpus->size(), canonical);
    EXPECT_FALSE(corpus->empty());
}
