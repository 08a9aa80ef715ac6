// cmd_send.cpp: `sealpost send [options] FILE.eml... | -`: sign and/or
// encrypt each message, split by envelope, deliver every copy through the
// configured transport (stdout, outbox, SMTP, API). One line per copy in the
// log, a summary at the end, sysexits exit codes.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>

#include "batch_runner.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "send_pipeline.hpp"

namespace sealpost {
namespace {

const char* kSendUsage =
    "usage: sealpost send [options] FILE.eml... | -\n\n"
    "Signs and/or encrypts RFC 822 messages and delivers them. Every recipient\n"
    "(To, Cc, Bcc) with a valid certificate in the store gets an encrypted copy;\n"
    "the others a copy that is not encrypted (--encrypt auto). Bcc is removed, and\n"
    "each Bcc recipient gets a copy of its own (no shared envelope).\n"
    "Output: standard output (one copy only), --out-dir (an outbox an MTA pickup\n"
    "directory reads), --smtp or --api.\n\n"
    "SMTP: --smtp smtp://host[:port] (STARTTLS when offered, --starttls) or\n"
    "smtps://host[:port]; --smtp env takes SMTP_HOST and SMTP_PORT (25). AUTH with\n"
    "[smtp] user/password or SMTP_USER/SMTP_PASSWORD. A batch rides one connection\n"
    "per --connections.\n"
    "API: --api https://host (or --api env: SPARKPOST_HOST, default\n"
    "https://api.sparkpost.com); key from SPARKPOST_API_KEY or [api] key.\n";

// Outcome counts for the summary, per copy.
struct OutcomeCounters {
    std::atomic<long> delivered{0}, partial{0}, deferred{0}, rejected{0};
    void count(DeliveryResult::Status s) {
        switch (s) {
            case DeliveryResult::Status::Accepted: delivered++; break;
            case DeliveryResult::Status::Partial: partial++; break;
            case DeliveryResult::Status::TempFail: deferred++; break;
            case DeliveryResult::Status::PermFail: rejected++; break;
        }
    }
};

// --connections and --smtp-user etc. are transport settings; --track is
// refused where it would break a signature or an encrypted body.
void check_track(const po::variables_map& vm, const Config& config) {
    if (!vm.count("track")) return;
    if (!config.get("relay", "api") || config.get("relay", "api")->empty())
        fail(ErrorKind::Usage, "--track applies to the transmissions API only (--api)");
    if (vm.count("sign") || vm.count("sign-detached"))
        fail(ErrorKind::Usage, "--track cannot be combined with --sign or --sign-detached: tracking rewrites the "
                               "body (links, open pixel) and would break the signature");
    if (config.get_or("sender", "encrypt", "auto") == "always")
        fail(ErrorKind::Usage, "--track cannot be combined with --encrypt always: an encrypted body cannot be tracked");
}

int outcome_code(const DeliveryResult& r) {
    switch (r.status) {
        case DeliveryResult::Status::Accepted: return 0;
        case DeliveryResult::Status::TempFail: return kExitTempFail;
        case DeliveryResult::Status::PermFail: return kExitUnavailable;
        case DeliveryResult::Status::Partial: {
            int code = 0;
            bool attributed = false;
            for (const auto& rr : r.recipients)
                if (!rr.accepted) {
                    attributed = true;
                    code = worse_exit_code(code, rr.code >= 500 ? kExitUnavailable : kExitTempFail);
                }
            // The API reports how many recipients it refused, not which: a
            // refusal in an accepted transmission is permanent.
            return attributed ? code : kExitUnavailable;
        }
    }
    return kExitSoftware;
}

}  // namespace

int run_send(int argc, char** argv) {
    po::options_description desc("Options");
    add_common_options(desc);
    desc.add_options()
        ("store", po::value<std::string>(), "certificate store directory ([store] dir)")
        ("keys", po::value<std::string>(), "signing identities directory ([sender] keys-dir)")
        ("sign", "sign, opaque (application/pkcs7-mime signed-data)")
        ("sign-detached", "sign, detached (multipart/signed, sha-256)")
        ("encrypt", po::value<std::string>(), "auto (default) | always | never")
        ("cipher", po::value<std::string>(), "aes-256-cbc (default) | aes-128-gcm | aes-256-gcm | aes-128-cbc")
        ("mix-key-types", "put RSA and EC recipients in one envelope (needs NSS >= 3.100)")
        ("out-dir", po::value<std::string>(), "write each copy as a file in this outbox ([relay] out-dir)")
        ("no-fsync", "outbox: do not fsync (faster, not crash-safe)")
        ("smtp", po::value<std::string>(), "inject over SMTP: smtp://host[:port] or smtps://host[:port]")
        ("api", po::value<std::string>(), "post to the transmissions API at this base URL")
        ("mail-from", po::value<std::string>(), "envelope sender (default: the From address)")
        ("connections", po::value<int>(), "SMTP: parallel connections, one per worker ([smtp] connections)")
        ("starttls", po::value<std::string>(), "SMTP: auto (default: when offered) | required | off ([smtp] starttls)")
        ("smtp-user", po::value<std::string>(), "SMTP: AUTH user ([smtp] user, SMTP_USER); password from [smtp] password or SMTP_PASSWORD")
        ("ca-file", po::value<std::string>(), "SMTP: CA certificates to verify the server ([smtp] ca-file; default the system bundle)")
        ("helo", po::value<std::string>(), "SMTP: EHLO name ([smtp] helo; default the host name)")
        ("smtp-timeout", po::value<std::string>(), "SMTP: seconds for connecting and for each reply ([smtp] timeout, 60)")
        ("campaign", po::value<std::string>(), "API: campaign_id ([api] campaign, default sealpost)")
        ("track", "API: open and click tracking (refused with signing or encryption)")
        ("threads,j", po::value<int>()->default_value(1), "worker threads")
        ("files", po::value<std::vector<std::string>>(), "input files, - for standard input");
    po::positional_options_description pos;
    pos.add("files", -1);

    return guarded("send", [&]() -> int {
        auto vm = parse_command_line(argc, argv, desc, &pos);
        if (vm.count("help")) {
            std::cout << kSendUsage << "\n" << desc << "\n" << kExitCodeHelp;
            return 0;
        }
        Config config = load_config(vm);
        flag_to_config(vm, config, "store", "store", "dir");
        flag_to_config(vm, config, "keys", "sender", "keys-dir");
        flag_to_config(vm, config, "encrypt", "sender", "encrypt");
        flag_to_config(vm, config, "cipher", "sender", "cipher");
        flag_to_config(vm, config, "out-dir", "relay", "out-dir");
        flag_to_config(vm, config, "smtp", "relay", "smtp");
        flag_to_config(vm, config, "api", "relay", "api");
        flag_to_config(vm, config, "mail-from", "sender", "mail-from");
        flag_to_config(vm, config, "starttls", "smtp", "starttls");
        flag_to_config(vm, config, "smtp-user", "smtp", "user");
        flag_to_config(vm, config, "ca-file", "smtp", "ca-file");
        flag_to_config(vm, config, "helo", "smtp", "helo");
        flag_to_config(vm, config, "smtp-timeout", "smtp", "timeout");
        flag_to_config(vm, config, "campaign", "api", "campaign");
        if (vm.count("connections")) config.set("smtp", "connections", std::to_string(vm["connections"].as<int>()));
        if (vm.count("track")) config.set("api", "track", "true");
        if (vm.count("sign") && vm.count("sign-detached"))
            fail(ErrorKind::Usage, "--sign and --sign-detached exclude each other");
        check_track(vm, config);
        if (vm.count("sign")) config.set("sender", "sign", "opaque");
        if (vm.count("sign-detached")) config.set("sender", "sign", "detached");
        if (vm.count("mix-key-types")) config.set("sender", "mix-key-types", "true");
        if (vm.count("no-fsync")) config.set("relay", "durable", "false");
        if (!vm.count("files")) fail(ErrorKind::Usage, "no input: give FILE.eml... or - for standard input");
        auto files = vm["files"].as<std::vector<std::string>>();
        int threads = vm["threads"].as<int>();
        if (threads < 1 || threads > 256) fail(ErrorKind::Usage, "--threads must be 1..256");
        if (auto smtp = config.get("relay", "smtp"); smtp && !smtp->empty() && config.get("smtp", "connections")) {
            long long n = config.get_size("smtp", "connections", 1);
            if (n < 1 || n > 256) fail(ErrorKind::Usage, "--connections / [smtp] connections must be 1..256");
            threads = static_cast<int>(n);  // one worker per connection
        }
        const bool track = config.get_or("api", "track", "false") == "true";

        SendOptions options = SendOptions::from_config(config);
        std::unique_ptr<CertStore> store;
        if (auto dir = config.get("store", "dir"); dir && !dir->empty()) store = std::make_unique<CertStore>(*dir);
        else if (options.encrypt == EncryptMode::Always)
            fail(ErrorKind::Config, "--encrypt always needs a certificate store: --store DIR or [store] dir");
        else if (options.encrypt == EncryptMode::Auto)
            log()->warn("send: no certificate store configured (--store or [store] dir): nothing will be encrypted");
        std::unique_ptr<IdentityStore> identities;
        if (options.sign != SignMode::None) {
            auto keys = config.get("sender", "keys-dir");
            if (!keys || keys->empty())
                fail(ErrorKind::Config, "signing needs the signing identities directory: --keys DIR or [sender] keys-dir");
            identities = std::make_unique<IdentityStore>(*keys, IdentityOptions::from_config(config));
        }
        SendPipeline pipeline(options, store.get(), identities.get());

        std::vector<std::unique_ptr<Transport>> transports;
        for (int i = 0; i < threads; ++i) transports.push_back(make_transport(config, /*batch=*/true));
        bool to_stdout = std::string(transports.front()->name()) == "stdout";
        if (to_stdout && files.size() > 1)
            fail(ErrorKind::Usage, "several input files need --out-dir, --smtp or --api (standard output takes one message)");

        BatchCounters counters;
        OutcomeCounters outcomes;
        auto start = std::chrono::steady_clock::now();
        int code = run_batch(files.size(), threads, [&](int worker, std::size_t index) -> int {
            const std::string& file = files[index];
            Trace trace("send: " + (file == "-" ? std::string("(standard input)") : file));
            counters.messages++;
            try {
                std::string raw = read_input(file, options.limits.max_bytes);
                auto copies = pipeline.process(raw, trace, std::time(nullptr));
                if (to_stdout && copies.size() > 1)
                    fail(ErrorKind::Usage, file + ": the message splits into " + std::to_string(copies.size()) +
                                               " copies (encrypted and not); use --out-dir, --smtp or --api");
                if (track)
                    for (const auto& copy : copies)
                        if (copy.encrypted)
                            fail(ErrorKind::Usage, file + ": --track cannot be used: a copy (" + copy.label +
                                                       ") is encrypted and an encrypted body cannot be tracked; "
                                                       "use --encrypt never or drop --track");
                int file_code = 0;
                for (auto& copy : copies) {
                    copy.source = file;
                    auto result = transports[static_cast<std::size_t>(worker)]->deliver(copy);
                    int c = outcome_code(result);
                    outcomes.count(result.status);
                    for (const auto& rr : result.recipients)
                        if (!rr.accepted || rr.code != 0)
                            trace.info("{}: {} {} {}", rr.address, rr.accepted ? "accepted" : rr.code != 0 ? "refused" : "failed", rr.code,
                                       printable(rr.text, 200));
                    if (c == 0) {
                        trace.info("delivered {} via {}: {}", copy.label, transports[static_cast<std::size_t>(worker)]->name(),
                                   printable(result.detail, 200));
                        counters.copies++;
                        if (copy.encrypted) counters.encrypted++;
                        if (copy.signed_) counters.signed_++;
                    } else if (result.status == DeliveryResult::Status::Partial) {
                        trace.warn("partly delivered ({}) via {}: {}", copy.label,
                                   transports[static_cast<std::size_t>(worker)]->name(), printable(result.detail, 300));
                    } else {
                        trace.error("not delivered ({}): {}", copy.label, printable(result.detail, 300));
                    }
                    file_code = worse_exit_code(file_code, c);
                }
                if (file_code != 0) counters.failed++;
                return file_code;
            } catch (const Error& e) {
                trace.error("{}", e.what());
                log()->error("send: {}: {}", file, e.what());
                counters.failed++;
                return e.exit_code();
            }
        }, counters, "send");
        for (auto& t : transports) {
            try {
                t->finish_batch();
            } catch (const Error& e) {
                log()->error("send: {}: {} (what was written may not survive a crash)", t->name(), e.what());
                code = worse_exit_code(code, e.exit_code());
            }
        }

        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        log()->info("send: summary: {} messages, {} copies, {} encrypted, {} signed, {} failed; "
                    "copies: {} delivered, {} partial, {} deferred, {} rejected; {:.1f} msg/s",
                    counters.messages.load(), counters.copies.load(), counters.encrypted.load(),
                    counters.signed_.load(), counters.failed.load(), outcomes.delivered.load(),
                    outcomes.partial.load(), outcomes.deferred.load(), outcomes.rejected.load(),
                    secs > 0 ? static_cast<double>(counters.messages.load()) / secs : 0.0);
        return code;
    });
}

}  // namespace sealpost
