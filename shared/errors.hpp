// errors.hpp: typed errors. Every failure sealpost reports belongs to one
// category; each category maps to one sysexits exit code and one severity.
// Messages name the operation, the object and the reason, e.g.
// "send: bob@example.com: no certificate in store /var/lib/sealpost/certs".
#pragma once

#include <stdexcept>
#include <string>

namespace sealpost {

// Exit codes (sysexits.h), documented in --help and README.
enum ExitCode : int {
    kExitOk = 0,
    kExitUsage = 64,        // bad command line
    kExitDataErr = 65,      // bad input message
    kExitNoInput = 66,      // input file missing
    kExitUnavailable = 69,  // permanent delivery failure
    kExitSoftware = 70,     // internal error
    kExitCantCreate = 73,   // cannot create output (outbox not writable)
    kExitTempFail = 75,     // temporary failure, retry later
    kExitNoPerm = 77,       // key file permissions
    kExitConfig = 78,       // configuration error
};

enum class ErrorKind {
    Usage,      // the command line
    Config,     // configuration file or values
    Input,      // a message or payload from outside
    Limit,      // an input over a configured limit (size, MIME depth, parts)
    NoInput,    // an input file that does not exist
    Crypto,     // OpenSSL said no (carries its drained error queue)
    Permission, // key file permissions
    TempFail,   // transport: try again later
    PermFail,   // transport: permanent rejection
    Internal,   // our own bug
    CantCreate, // an output file cannot be created (outbox permissions): the operator must act
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string what) : std::runtime_error(std::move(what)), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }
    int exit_code() const noexcept;

private:
    ErrorKind kind_;
};

[[noreturn]] void fail(ErrorKind kind, std::string what);

// Throws ErrorKind::Crypto with `what` plus OpenSSL's drained error queue.
[[noreturn]] void fail_openssl(const std::string& what);

// Drains OpenSSL's error queue into one line ("" when empty).
std::string openssl_errors();

int exit_code_for(ErrorKind kind) noexcept;

}  // namespace sealpost
