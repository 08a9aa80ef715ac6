// address_test.cpp: address parsing, normalisation and the file-name gate.
#include <gtest/gtest.h>

#include "address.hpp"
#include "errors.hpp"

using namespace sealpost;

TEST(Address, ParsesDisplayNamesGroupsAndLists) {
    auto list = parse_address_list("\"Bob, Jr.\" <Bob@Example.COM>, team: carol@example.net, dave@example.org;, erin@example.com");
    ASSERT_EQ(list.size(), 4u);
    EXPECT_EQ(list[0].address, "bob@example.com");
    EXPECT_EQ(list[0].name, "Bob, Jr.");
    EXPECT_EQ(list[1].address, "carol@example.net");
    EXPECT_EQ(list[2].address, "dave@example.org");
    EXPECT_EQ(list[3].address, "erin@example.com");
}

TEST(Address, NormalisesCaseAndIdnDomain) {
    EXPECT_EQ(normalise_address("Alice@Example.Com"), "alice@example.com");
    EXPECT_EQ(normalise_address("user@bücher.example"), "user@xn--bcher-kva.example");
}

TEST(Address, RejectsSomethingThatIsNotLocalAtDomain) {
    EXPECT_THROW(normalise_address("no-at-sign"), Error);
    EXPECT_THROW(normalise_address("@example.com"), Error);
    EXPECT_THROW(normalise_address("bob@"), Error);
}

TEST(Address, PathTricksNeverBecomeFileNames) {
    EXPECT_TRUE(unsafe_file_name_reason("\"../../x\"@example.com"));
    EXPECT_TRUE(unsafe_file_name_reason("a/b@example.com"));
    EXPECT_TRUE(unsafe_file_name_reason("a\\b@example.com"));
    EXPECT_TRUE(unsafe_file_name_reason(".hidden@example.com"));
    EXPECT_TRUE(unsafe_file_name_reason(std::string("a\0b@example.com", 15)));
    EXPECT_TRUE(unsafe_file_name_reason("a\r\nb@example.com"));
    EXPECT_TRUE(unsafe_file_name_reason(std::string(250, 'a') + "@example.com"));
    EXPECT_FALSE(unsafe_file_name_reason("bob@example.com"));
    EXPECT_THROW(address_file_name("../x@example.com", ".crt"), Error);
    EXPECT_EQ(address_file_name("bob@example.com", ".crt"), "bob@example.com.crt");
}
