// server_tls.hpp: the TLS server context for a `[section] tls-cert` /
// `tls-key` pair, shared by the host's SMTP listener ([serve]) and the
// plugins' servers ([collector]), so every listener has the same floor
// (TLS 1.2 and later). Returns null when neither key is set; throws
// Error(Config) when only one is, or when the files cannot be used.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

#include "config.hpp"
#include "errors.hpp"

namespace sealpost {

inline std::shared_ptr<boost::asio::ssl::context> server_tls_context(const Config& config, const std::string& section) {
    namespace ssl = boost::asio::ssl;
    auto cert = config.get_or(section, "tls-cert", ""), key = config.get_or(section, "tls-key", "");
    if (cert.empty() && key.empty()) return nullptr;
    if (cert.empty() || key.empty()) fail(ErrorKind::Config, "[" + section + "] tls-cert and tls-key go together");
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cert, ec);
    if (!ec) ctx->use_private_key_file(key, ssl::context::pem, ec);
    if (ec) fail(ErrorKind::Config, "[" + section + "] tls-cert/tls-key: " + ec.message());
    return ctx;
}

}  // namespace sealpost
