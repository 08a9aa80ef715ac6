// cmd_send.cpp: `sealpost send [options] FILE.eml... | -`: sign and/or
// encrypt each message, split by envelope, deliver every copy through the
// configured transport (stdout, outbox, SMTP, API). One line per copy in the
// log, a summary at the end, sysexits exit codes.
#include <unistd.h>

#include <algorithm>
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
#include "delivery_outcome.hpp"
#include "input_reader.hpp"
#include "invite_options.hpp"
#include "wanted_recorder.hpp"
#include "send_pipeline.hpp"
#include "store_location.hpp"

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

// The options every `send` flag maps to, in the configuration (flags win).
void apply_send_flags(const po::variables_map& vm, Config& config) {
    static const std::pair<const char*, std::pair<const char*, const char*>> kFlagKeys[] = {
        {"store", {"store", "dir"}},         {"keys", {"sender", "keys-dir"}},
        {"encrypt", {"sender", "encrypt"}},  {"cipher", {"sender", "cipher"}},
        {"out-dir", {"relay", "out-dir"}},   {"smtp", {"relay", "smtp"}},
        {"api", {"relay", "api"}},           {"mail-from", {"sender", "mail-from"}},
        {"starttls", {"smtp", "starttls"}},  {"smtp-user", {"smtp", "user"}},
        {"ca-file", {"smtp", "ca-file"}},    {"helo", {"smtp", "helo"}},
        {"smtp-timeout", {"smtp", "timeout"}}, {"campaign", {"api", "campaign"}},
    };
    for (const auto& [flag, key] : kFlagKeys) flag_to_config(vm, config, flag, key.first, key.second);
    if (vm.count("connections")) config.set("smtp", "connections", std::to_string(vm["connections"].as<int>()));
    if (vm.count("track")) config.set("api", "track", "true");
    if (vm.count("sign") && vm.count("sign-detached"))
        fail(ErrorKind::Usage, "--sign and --sign-detached exclude each other");
    check_track(vm, config);
    if (vm.count("sign")) config.set("sender", "sign", "opaque");
    if (vm.count("sign-detached")) config.set("sender", "sign", "detached");
    if (vm.count("mix-key-types")) config.set("sender", "mix-key-types", "true");
    if (vm.count("no-fsync")) config.set("relay", "durable", "false");
}

// Worker threads: -j, or one per SMTP connection when --connections is set.
int worker_count(const po::variables_map& vm, const Config& config) {
    int threads = vm["threads"].as<int>();
    if (threads < 1 || threads > 256) fail(ErrorKind::Usage, "--threads must be 1..256");
    if (auto smtp = config.get("relay", "smtp"); smtp && !smtp->empty() && config.get("smtp", "connections")) {
        long long n = config.get_size("smtp", "connections", 1);
        if (n < 1 || n > 256) fail(ErrorKind::Usage, "--connections / [smtp] connections must be 1..256");
        threads = static_cast<int>(n);
    }
    return threads;
}

// Everything one batch shares: the pipeline, a transport per worker, counters.
struct SendJob {
    const SendPipeline& pipeline;
    std::vector<std::unique_ptr<Transport>>& transports;
    bool to_stdout = false;
    bool track = false;
    BatchCounters& counters;
    OutcomeCounters& outcomes;
};

// Refuses what cannot be delivered as asked, before anything is delivered.
void check_copies(const SendJob& job, const std::vector<OutputCopy>& copies) {
    auto real = std::count_if(copies.begin(), copies.end(), [](const OutputCopy& c) { return c.refusal.empty(); });
    if (job.to_stdout && real > 1)
        fail(ErrorKind::Usage, "the message splits into " + std::to_string(real) +
                                   " copies (encrypted and not); use --out-dir, --smtp or --api");
    if (job.track)
        for (const auto& copy : copies)
            if (copy.encrypted)
                fail(ErrorKind::Usage, "--track cannot be used: a copy (" + copy.label +
                                           ") is encrypted and an encrypted body cannot be tracked; "
                                           "use --encrypt never or drop --track");
}

// Delivers one copy and logs what happened to it and to each recipient.
DeliveryResult deliver_copy(SendJob& job, Transport& transport, OutputCopy& copy, Trace& trace) {
    auto result = copy.refusal.empty() ? transport.deliver(copy) : policy_refusal(copy);
    job.outcomes.count(result.status);
    for (const auto& rr : result.recipients)
        if (!rr.accepted || rr.code != 0)
            trace.info("{}: {} {} {}", rr.address, rr.accepted ? "accepted" : rr.code != 0 ? "refused" : "failed",
                       rr.code, printable(rr.text, 200));
    switch (result.status) {
        case DeliveryResult::Status::Accepted:
            trace.info("delivered {} via {}: {}", copy.label, transport.name(), printable(result.detail, 200));
            job.counters.copies++;
            if (copy.encrypted) job.counters.encrypted++;
            if (copy.signed_) job.counters.signed_++;
            break;
        case DeliveryResult::Status::Partial:
            trace.warn("partly delivered ({}) via {}: {}", copy.label, transport.name(), printable(result.detail, 300));
            break;
        default: trace.error("not delivered ({}): {}", copy.label, printable(result.detail, 300));
    }
    return result;
}

// One input file: read, process, deliver every copy; the file's exit code.
int send_file(SendJob& job, Transport& transport, const std::string& file) {
    Trace trace("send: " + input_label(file));
    job.counters.messages++;
    try {
        std::string raw = read_input(file, job.pipeline.options().limits.max_bytes);
        auto copies = job.pipeline.process(std::move(raw), trace, std::time(nullptr));
        check_copies(job, copies);
        std::vector<DeliveryResult> results;
        for (auto& copy : copies) {
            copy.source = file;
            results.push_back(deliver_copy(job, transport, copy, trace));
        }
        int code = exit_code_for(summarize_delivery(results).outcome);
        if (code != 0) job.counters.failed++;
        return code;
    } catch (const Error& e) {
        trace.error("{}", without_input_name(e.what(), file));  // the trace's first line names the file
        job.counters.failed++;
        return e.exit_code();
    }
}

// Makes what the transports deferred durable (the outbox's directory fsync).
int finish_transports(std::vector<std::unique_ptr<Transport>>& transports, int code) {
    for (auto& t : transports) {
        try {
            t->finish_batch();
        } catch (const Error& e) {
            log()->error("send: {}: {} (what was written may not survive a crash)", t->name(), e.what());
            code = worse_exit_code(code, e.exit_code());
        }
    }
    return code;
}

void log_summary(const BatchCounters& counters, const OutcomeCounters& outcomes,
                 std::chrono::steady_clock::time_point start) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log()->info("send: summary: {} messages, {} copies, {} encrypted, {} signed, {} failed; "
                "copies: {} delivered, {} partial, {} deferred, {} rejected; {:.1f} msg/s",
                counters.messages.load(), counters.copies.load(), counters.encrypted.load(),
                counters.signed_.load(), counters.failed.load(), outcomes.delivered.load(),
                outcomes.partial.load(), outcomes.deferred.load(), outcomes.rejected.load(),
                secs > 0 ? static_cast<double>(counters.messages.load()) / secs : 0.0);
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
        apply_send_flags(vm, config);
        if (!vm.count("files")) fail(ErrorKind::Usage, "no input: give FILE.eml... or - for standard input");
        auto files = vm["files"].as<std::vector<std::string>>();
        int threads = worker_count(vm, config);

        SendOptions options = SendOptions::from_config(config);
        // Never plaintext because of the configuration: a store that is named
        // must exist, and encrypting needs one.
        std::unique_ptr<CertStore> store = open_configured_store(config, StoreAccess::ReadExisting);
        if (!store && options.encrypt != EncryptMode::Never)
            fail(ErrorKind::Config, std::string("config: encrypt = ") + encrypt_mode_name(options.encrypt) +
                                        " needs a certificate store: --store DIR or [store] dir (set encrypt = "
                                        "never, or --encrypt never, to send without encryption)");
        auto identities = open_signing_identities(config, options);
        // [invite] enabled: recipients sent in clear for want of a certificate
        // go into the store's invitation ledger (a broken [invite] is exit 78 now).
        if (store && InviteOptions::from_config(config).enabled)
            options.wanted = std::make_shared<WantedRecorder>(*store);
        SendPipeline pipeline(options, store.get(), identities.get());
        keep_message_buffers(options.limits.max_bytes);

        std::vector<std::unique_ptr<Transport>> transports;
        for (int i = 0; i < threads; ++i) transports.push_back(make_transport(config, /*batch=*/true));
        bool to_stdout = std::string(transports.front()->name()) == "stdout";
        if (to_stdout && files.size() > 1)
            fail(ErrorKind::Usage, "several input files need --out-dir, --smtp or --api (standard output takes one message)");

        BatchCounters counters;
        OutcomeCounters outcomes;
        SendJob job{pipeline, transports, to_stdout, config.get_bool("api", "track", false), counters, outcomes};
        auto start = std::chrono::steady_clock::now();
        int code = run_batch(files.size(), threads, [&](int worker, std::size_t index) {
            return send_file(job, *transports[static_cast<std::size_t>(worker)], files[index]);
        }, counters, "send");
        code = finish_transports(transports, code);
        if (options.wanted) options.wanted->flush();  // a failure is logged; the destructor tries once more
        log_summary(counters, outcomes, start);
        return code;
    });
}

}  // namespace sealpost
