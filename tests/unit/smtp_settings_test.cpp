// smtp_settings_test.cpp: the relay URL, the original's environment
// variables, and that describe() never shows the password.
#include <gtest/gtest.h>

#include <map>

#include "errors.hpp"
#include "smtp_settings.hpp"

using namespace sealpost;

namespace {

SmtpSettings::Env env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> const char* {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

}  // namespace

TEST(SmtpSettings, TakesHostAndPortFromTheUrlAndDefaultsTo25) {
    Config c;
    c.set("relay", "smtp", "smtp://mta.example.net");
    auto s = SmtpSettings::from_config(c, env_of({{"SMTP_HOST", "ignored.example.com"}, {"SMTP_PORT", "2525"}}));
    EXPECT_EQ(s.host, "mta.example.net");
    EXPECT_EQ(s.port, 25);
    EXPECT_FALSE(s.implicit_tls);
    EXPECT_EQ(s.starttls, StartTls::Auto);
}

TEST(SmtpSettings, SmtpsMeansImplicitTlsOn465AndIpv6NeedsBrackets) {
    Config c;
    c.set("relay", "smtp", "smtps://[::1]");
    c.set("smtp", "helo", "client.example.com");
    auto s = SmtpSettings::from_config(c, env_of({}));
    EXPECT_TRUE(s.implicit_tls);
    EXPECT_EQ(s.port, 465);
    EXPECT_EQ(s.host, "::1");
    EXPECT_EQ(s.curl_url(), "smtps://[::1]:465/client.example.com");
}

TEST(SmtpSettings, EnvMeansTheOriginalsVariables) {
    Config c;
    c.set("relay", "smtp", "env");
    auto s = SmtpSettings::from_config(
        c, env_of({{"SMTP_HOST", "pmta.example.com"}, {"SMTP_PORT", "587"}, {"SMTP_USER", "u"}, {"SMTP_PASSWORD", "pw-secret"}}));
    EXPECT_EQ(s.host, "pmta.example.com");
    EXPECT_EQ(s.port, 587);
    EXPECT_EQ(s.user, "u");
    EXPECT_EQ(s.password, "pw-secret");
}

TEST(SmtpSettings, ConfigWinsOverTheEnvironmentForCredentials) {
    Config c;
    c.set("relay", "smtp", "smtp://mta.example.net:2525");
    c.set("smtp", "user", "alice");
    c.set("smtp", "password", "from-config");
    auto s = SmtpSettings::from_config(c, env_of({{"SMTP_USER", "bob"}, {"SMTP_PASSWORD", "from-env"}}));
    EXPECT_EQ(s.user, "alice");
    EXPECT_EQ(s.password, "from-config");
    EXPECT_EQ(s.port, 2525);
}

TEST(SmtpSettings, DescribeShowsAsterisksNeverThePassword) {
    Config c;
    c.set("relay", "smtp", "smtp://mta.example.net");
    c.set("smtp", "user", "alice");
    c.set("smtp", "password", "pw-Zebra");
    auto d = SmtpSettings::from_config(c, env_of({})).describe();
    EXPECT_EQ(d.find("pw-Zebra"), std::string::npos);
    EXPECT_NE(d.find("password=********"), std::string::npos);
}

TEST(SmtpSettings, RefusesBadValuesWithAConfigError) {
    auto refuses = [](const char* url, std::map<std::string, std::string> extra = {}) {
        Config c;
        c.set("relay", "smtp", url);
        for (const auto& [k, v] : extra) c.set("smtp", k, v);
        try {
            SmtpSettings::from_config(c, env_of({}));
        } catch (const Error& e) {
            return e.kind() == ErrorKind::Config;
        }
        return false;
    };
    EXPECT_TRUE(refuses("http://mta.example.net"));
    EXPECT_TRUE(refuses("smtp://user:pw@mta.example.net"));
    EXPECT_TRUE(refuses("smtp://mta.example.net:99999"));
    EXPECT_TRUE(refuses("smtp://mta.example.net/path"));
    EXPECT_TRUE(refuses("env"));  // no SMTP_HOST
    EXPECT_TRUE(refuses("smtp://mta.example.net", {{"starttls", "maybe"}}));
    EXPECT_TRUE(refuses("smtp://mta.example.net", {{"user", "alice"}}));  // no password anywhere
}
