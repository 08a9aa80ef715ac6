// plain_address_list_test.cpp: the GMime-free reader of plain address lists
// reads what GMime reads, and refuses what it was not built for.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "address.hpp"
#include "plain_address_list.hpp"

using namespace sealpost;

namespace {

std::string describe(const std::vector<Mailbox>& list) {
    std::string out;
    for (const Mailbox& m : list) out += "[" + m.name + "|" + m.address + "]";
    return out;
}

}  // namespace

TEST(PlainAddressList, ReadsTheTwoPlainForms) {
    auto list = plain_address_list(" Bench Bank <Alice@Example.COM>, <bob@example.com>,carol.x+tag@Mail.example.org ");
    ASSERT_TRUE(list);
    EXPECT_EQ(describe(*list), "[Bench Bank|alice@example.com][|bob@example.com][|carol.x+tag@mail.example.org]");
}

TEST(PlainAddressList, LeavesEveryOtherFormToGMime) {
    for (const char* value : {"", " ", "\"Bob, Jr.\" <bob@example.com>", "bob@example.com (Bob)",
                              "team: carol@example.net;", "=?utf-8?q?B=C3=B6b?= <bob@example.com>",
                              "bob@xn--bcher-kva.example", "bob@b\xc3\xbc" "cher.example", "a@b,", ",a@b", "a@b,,c@d",
                              "a..b@example.com", ".a@example.com", "a@example..com", "a@", "@b", "a@b c@d",
                              "Bob <bob@example.com", "Bob\t<bob@example.com>", "Bob  <bob@example.com> x",
                              "J. Smith <j@example.com>", "bob@[127.0.0.1]", "<bob@example.com> Bob"})
        EXPECT_FALSE(plain_address_list(value)) << value;
}

// Random lists over the characters the plain forms use and a few that
// push a list out of them: wherever the plain reader answers, GMime reads
// the same mailboxes, names and addresses.
TEST(PlainAddressList, AgreesWithGMimeWhereverItAnswers) {
    std::mt19937 rng(20261127);
    const std::string pieces[] = {"bob", "Alice", "x.y", "a+b", "o'neil", "Z_9", "-", "!", "#", "~",  "=",
                                  "?",   ".",     "@",   "<",   ">",      ",",   " ", " ", "  ", "ex", "com",
                                  "Bank", "Ltd.", "xn--", "\t", "\"",     "(",   ")", ":", ";", "{", "|"};
    auto pick = [&](std::size_t from, std::size_t count) { return pieces[from + rng() % count]; };
    int answered = 0;
    for (int i = 0; i < 40000; ++i) {
        // A well-formed list of one to three members...
        std::string value;
        for (int m = 0, members = 1 + static_cast<int>(rng() % 3); m < members; ++m) {
            if (m) value += rng() % 2 ? ", " : ",";
            std::string addr = pick(0, 6) + "@" + pick(20, 2) + "." + pieces[21];
            if (rng() % 2)
                value += addr;
            else
                value += (rng() % 3 ? pick(0, 6) + (rng() % 3 ? " " : "  ") + pick(20, 3) + " " : "") + "<" + addr + ">";
        }
        // ...and, in most cases, noise anywhere in it.
        for (int k = static_cast<int>(rng() % 6) - 2; k > 0; --k)
            value.insert(rng() % (value.size() + 1), pick(0, std::size(pieces)));
        auto plain = plain_address_list(value);
        if (!plain) continue;
        ++answered;
        std::vector<std::string> rejected;
        auto gmime = parse_address_list_with_gmime(value, &rejected);
        EXPECT_TRUE(rejected.empty()) << value;
        ASSERT_EQ(describe(*plain), describe(gmime)) << "value: '" << value << "'";
    }
    EXPECT_GT(answered, 5000);  // the comparison covered many lists
}
