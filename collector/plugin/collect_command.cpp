// collect_command.cpp: `sealpost collect [options] FILE.eml... | -`: the
// command-line twin of the collector webhook, offered by the collector
// plugin. Each file goes through collect_message(), exactly the code the
// webhook runs; one verdict line per file on stdout, the detail in the log.
//
// Exit codes: 0 every certificate stored or already current; 65 any message
// rejected; 66 an input file missing; 64 usage; 75 the store could not be
// written; 78 configuration.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli_common.hpp"
#include "collect.hpp"
#include "collect_command.hpp"
#include "errors.hpp"
#include "input_reader.hpp"
#include "log.hpp"
#include "store_location.hpp"

namespace sealpost {
namespace {

constexpr std::size_t kProgressThreshold = 10;  // files before a progress line appears

const char* const kCollectUsage =
    "usage: sealpost collect [options] FILE.eml... | -\n\n"
    "Verifies each signed mail (DKIM, S/MIME signature, certificate chain,\n"
    "From address) and stores the sender's certificate for encryption.\n"
    "Prints one verdict line per file; details go to the log.\n";

}  // namespace

int run_collect_command(int argc, char** argv) {
    po::options_description desc("Options");
    add_common_options(desc);
    desc.add_options()
        ("store", po::value<std::string>(), "certificate store directory ([store] dir; created when missing)")
        ("trusted-certs", po::value<std::string>(),
         "PEM bundle of trusted CAs (default /etc/ssl/certs/ca-certificates.crt)")
        ("dkim", po::value<std::string>(), "require|ignore (default require)")
        ("dkim-alignment", po::value<std::string>(), "strict|relaxed (default strict)")
        ("dkim-keys", po::value<std::string>(), "OpenDKIM test-key file instead of DNS")
        ("at", po::value<std::string>(), "judge certificates at this ISO 8601 time instead of now")
        ("max-message-size", po::value<std::string>(), "largest message accepted (default 10M)")
        ("max-mime-depth", po::value<std::string>(), "deepest MIME nesting accepted (default 32)")
        ("max-mime-parts", po::value<std::string>(), "most MIME parts accepted (default 1000)")
        ("files", po::value<std::vector<std::string>>(), "messages to collect, - for stdin");
    po::positional_options_description pos;
    pos.add("files", -1);

    return guarded("collect", [&]() -> int {
        auto vm = parse_command_line(argc, argv, desc, &pos);
        if (vm.count("help")) {
            std::cout << kCollectUsage << "\n" << desc << "\n" << kExitCodeHelp;
            return kExitOk;
        }
        if (!vm.count("files")) fail(ErrorKind::Usage, "no message given (FILE.eml... or -)");
        auto files = vm["files"].as<std::vector<std::string>>();
        Config config = load_config(vm);
        flag_to_config(vm, config, "store", "store", "dir");
        for (const char* key : {"trusted-certs", "dkim", "dkim-alignment", "dkim-keys", "at",
                                "max-message-size", "max-mime-depth", "max-mime-parts"})
            flag_to_config(vm, config, key, "collector", key);
        CollectOptions options = CollectOptions::from_config(config);
        options.source = "collect";
        auto store = open_configured_store(config, StoreAccess::CreateIfMissing);
        if (!store) fail(ErrorKind::Config, "config: no certificate store: set --store DIR or [store] dir");
        auto anchors = TrustAnchors::load(options.trusted_certs);
        if (options.dkim == DkimMode::Ignore)
            log()->warn("collect: dkim=ignore: From addresses are not authenticated");

        bool progress = files.size() >= kProgressThreshold && ::isatty(STDERR_FILENO);
        std::size_t stored = 0, current = 0, rejected = 0, missing = 0, done = 0;
        for (const auto& file : files) {
            ++done;
            if (progress) std::fprintf(stderr, "\r\033[Kcollect: %zu/%zu %s", done, files.size(), file.c_str());
            std::string bytes;
            try {
                // Over-limit input is read only far enough for the collector's own size verdict.
                bytes = read_input_head(file, options.limits.max_bytes);
            } catch (const Error& e) {
                ++missing;
                std::cout << file << ": missing: " << without_input_name(e.what(), file) << "\n";
                log()->error("collect: cannot read {}", e.what());
                continue;
            }
            Verdict v = collect_message(bytes, options, *store, *anchors, input_label(file));
            std::cout << file << ": " << v.summary() << "\n" << std::flush;
            if (v.outcome == VerdictOutcome::Stored) ++stored;
            else if (v.outcome == VerdictOutcome::AlreadyCurrent) ++current;
            else ++rejected;
        }
        if (progress) std::fprintf(stderr, "\r\033[K");
        if (files.size() > 1)
            log()->info("collect: {} files: {} stored, {} already current, {} rejected{}", files.size(), stored,
                        current, rejected, missing ? ", " + std::to_string(missing) + " missing" : std::string());
        if (missing) return kExitNoInput;
        if (rejected) return kExitDataErr;
        return kExitOk;
    });
}

}  // namespace sealpost
