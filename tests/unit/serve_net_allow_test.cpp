// serve_net_allow_test.cpp: [serve] allow, the networks the SMTP listener
// talks to: IPv4 and IPv6 CIDR matching, v4-mapped clients, the loopback
// default, and malformed entries refused as configuration errors.
#include <gtest/gtest.h>

#include "errors.hpp"
#include "net_allow.hpp"

namespace sealpost {
namespace {

bool allows(const NetAllowList& list, const char* address) {
    return list.allows(boost::asio::ip::make_address(address));
}

void expect_config_error(const std::string& spec) {
    try {
        NetAllowList list(spec);
        ADD_FAILURE() << "'" << spec << "' was accepted as " << list.describe();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Config) << spec;
        EXPECT_NE(std::string(e.what()).find("[serve] allow"), std::string::npos) << e.what();
    }
}

TEST(NetAllowList, EmptyMeansLoopbackOnly) {
    NetAllowList list("");
    EXPECT_TRUE(allows(list, "127.0.0.1"));
    EXPECT_TRUE(allows(list, "127.255.3.4"));
    EXPECT_TRUE(allows(list, "::1"));
    EXPECT_TRUE(allows(list, "::ffff:127.0.0.1"));
    EXPECT_FALSE(allows(list, "10.0.0.1"));
    EXPECT_FALSE(allows(list, "128.0.0.1"));
    EXPECT_FALSE(allows(list, "::2"));
    EXPECT_FALSE(allows(list, "::ffff:10.0.0.1"));
    EXPECT_EQ(list.describe(), "127.0.0.0/8, ::1/128");
}

TEST(NetAllowList, Ipv4NetworksMatchOnTheirPrefix) {
    NetAllowList list("10.0.0.0/8, 192.168.1.0/24,172.16.0.0/12");
    EXPECT_TRUE(allows(list, "10.0.0.0"));
    EXPECT_TRUE(allows(list, "10.255.255.255"));
    EXPECT_FALSE(allows(list, "11.0.0.0"));
    EXPECT_FALSE(allows(list, "9.255.255.255"));
    EXPECT_TRUE(allows(list, "192.168.1.77"));
    EXPECT_FALSE(allows(list, "192.168.2.77"));
    // A prefix that does not end on an octet.
    EXPECT_TRUE(allows(list, "172.16.0.1"));
    EXPECT_TRUE(allows(list, "172.31.255.255"));
    EXPECT_FALSE(allows(list, "172.32.0.0"));
    EXPECT_FALSE(allows(list, "172.15.255.255"));
    // Loopback is no longer implied once a list is given.
    EXPECT_FALSE(allows(list, "127.0.0.1"));
    EXPECT_FALSE(allows(list, "::1"));
}

TEST(NetAllowList, AnAddressWithoutPrefixIsOneHost) {
    NetAllowList list("192.0.2.7 2001:db8::7");
    EXPECT_TRUE(allows(list, "192.0.2.7"));
    EXPECT_FALSE(allows(list, "192.0.2.8"));
    EXPECT_TRUE(allows(list, "2001:db8::7"));
    EXPECT_FALSE(allows(list, "2001:db8::8"));
    EXPECT_EQ(list.describe(), "192.0.2.7/32, 2001:db8::7/128");
}

TEST(NetAllowList, Ipv6NetworksMatchOnTheirPrefixAndNeverMatchIpv4) {
    NetAllowList list("2001:db8::/32, fd00::/7");
    EXPECT_TRUE(allows(list, "2001:db8::1"));
    EXPECT_TRUE(allows(list, "2001:db8:ffff:ffff::1"));
    EXPECT_FALSE(allows(list, "2001:db9::1"));
    EXPECT_TRUE(allows(list, "fd12:3456::1"));
    EXPECT_TRUE(allows(list, "fc00::1"));
    EXPECT_FALSE(allows(list, "fe00::1"));
    EXPECT_FALSE(allows(list, "32.1.13.184"));  // 2001:0db8 read as IPv4 bytes
}

TEST(NetAllowList, V4MappedClientsAreJudgedAsIpv4) {
    NetAllowList list("10.0.0.0/8");
    EXPECT_TRUE(allows(list, "::ffff:10.1.2.3"));
    EXPECT_FALSE(allows(list, "::ffff:11.1.2.3"));
    NetAllowList v6only("::/0");
    EXPECT_FALSE(allows(v6only, "::ffff:10.1.2.3")) << "a mapped IPv4 client is not an IPv6 client";
    EXPECT_TRUE(allows(v6only, "2001:db8::1"));
}

TEST(NetAllowList, ZeroPrefixAllowsTheWholeFamily) {
    NetAllowList list("0.0.0.0/0");
    EXPECT_TRUE(allows(list, "203.0.113.9"));
    EXPECT_TRUE(allows(list, "::ffff:203.0.113.9"));
    EXPECT_FALSE(allows(list, "2001:db8::1"));
}

TEST(NetAllowList, MalformedEntriesAreConfigurationErrors) {
    expect_config_error("not-an-address");
    expect_config_error("10.0.0.0/33");
    expect_config_error("::1/129");
    expect_config_error("10.0.0.0/");
    expect_config_error("10.0.0.0/abc");
    expect_config_error("10.0.0.0/-1");
    expect_config_error("10.0.0.0/8x");
    expect_config_error("10.0.0.0/+8");
    expect_config_error("10.0.0.0/ 8");
    expect_config_error("10.0.0.0//8");
    expect_config_error("10.0.0.256/8");
    expect_config_error("127.0.0.1, example.com");
}

}  // namespace
}  // namespace sealpost
