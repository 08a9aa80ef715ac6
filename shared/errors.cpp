// errors.cpp: exit codes per error category and OpenSSL error draining.
#include "errors.hpp"

#include <openssl/err.h>

namespace sealpost {

int exit_code_for(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::Usage: return kExitUsage;
        case ErrorKind::Config: return kExitConfig;
        case ErrorKind::Input: return kExitDataErr;
        case ErrorKind::Limit: return kExitDataErr;
        case ErrorKind::NoInput: return kExitNoInput;
        case ErrorKind::Crypto: return kExitDataErr;
        case ErrorKind::Permission: return kExitNoPerm;
        case ErrorKind::TempFail: return kExitTempFail;
        case ErrorKind::PermFail: return kExitUnavailable;
        case ErrorKind::Internal: return kExitSoftware;
        case ErrorKind::CantCreate: return kExitCantCreate;
    }
    return kExitSoftware;
}

int Error::exit_code() const noexcept { return exit_code_for(kind_); }

void fail(ErrorKind kind, std::string what) { throw Error(kind, std::move(what)); }

std::string openssl_errors() {
    std::string out;
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

void fail_openssl(const std::string& what) {
    std::string detail = openssl_errors();
    throw Error(ErrorKind::Crypto, detail.empty() ? what : what + " (" + detail + ")");
}

}  // namespace sealpost
