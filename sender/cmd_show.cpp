// cmd_show.cpp: `sealpost show FILE | -`: the header and MIME tree of a
// message, indented, and for S/MIME parts what is inside (signed or
// enveloped, algorithms, signer, recipients; the content of opaque signed
// data, recursively), and whether each signature verifies, with the
// signer's chain to the trust anchors (--trusted-certs, default the system
// bundle). A filter: `sealpost send ... | sealpost show -`.
#include <iostream>

#include "cli_common.hpp"
#include "cms_describe.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "input_reader.hpp"
#include "log.hpp"
#include "mime.hpp"
#include "signature_report.hpp"

namespace sealpost {
namespace {

constexpr int kMaxShowDepth = 16;
constexpr const char* kSystemBundle = "/etc/ssl/certs/ca-certificates.crt";

// What verifying a signature needs while the tree is walked.
struct ShowContext {
    const SignatureVerifier* verifier = nullptr;  // null: --no-verify
    std::optional<std::string> detached;          // the signed part beside a pkcs7-signature
};

std::string indent(int level) { return std::string(static_cast<std::size_t>(level) * 2, ' '); }

void show_object(GMimeObject* obj, int level, std::ostream& out, const ShowContext& ctx);

void show_entity_bytes(const std::string& bytes, int level, std::ostream& out, const ShowContext& ctx) {
    if (level > kMaxShowDepth) {
        out << indent(level) << "(nested too deep)\n";
        return;
    }
    try {
        std::string msg = to_crlf(bytes);
        auto parsed = parse_message(msg);
        show_object(g_mime_message_get_mime_part(parsed.get()), level, out, ShowContext{ctx.verifier, {}});
    } catch (const Error& e) {
        out << indent(level) << "(cannot parse: " << e.what() << ")\n";
    }
}

void show_object(GMimeObject* obj, int level, std::ostream& out, const ShowContext& ctx) {
    if (!obj) return;
    if (level > kMaxShowDepth) {
        out << indent(level) << "(nested too deep)\n";
        return;
    }
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    GCharPtr ct_text(ct ? g_mime_content_type_encode(ct, nullptr) : nullptr);
    std::string type = ct_text ? ct_text.get() : "text/plain";
    // Unfold the header value onto one line.
    std::string one;
    for (char c : type)
        if (c != '\r' && c != '\n' && !(one.empty() && (c == ' ' || c == '\t'))) one += (c == '\t' ? ' ' : c);
    out << indent(level) << printable(one, 300);
    if (GMIME_IS_MULTIPART(obj)) {
        auto* mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        out << "  [" << n << " parts]\n";
        ShowContext inner{ctx.verifier, {}};
        // multipart/signed: the signature covers the first part's bytes, CRLF.
        if (ct && g_mime_content_type_is_type(ct, "multipart", "signed") && n == 2) {
            GCharPtr signed_text(g_mime_object_to_string(g_mime_multipart_get_part(mp, 0), nullptr));
            if (signed_text) inner.detached = to_crlf(signed_text.get());
        }
        for (int i = 0; i < n; ++i)
            show_object(g_mime_multipart_get_part(mp, i), level + 1, out, i == 1 ? inner : ShowContext{ctx.verifier, {}});
        return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        out << "\n";
        GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner) show_object(g_mime_message_get_mime_part(inner), level + 1, out, ShowContext{ctx.verifier, {}});
        return;
    }
    if (!GMIME_IS_PART(obj)) {
        out << "\n";
        return;
    }
    auto* part = GMIME_PART(obj);
    std::string bytes = decoded_part_content(part);
    const char* enc = g_mime_content_encoding_to_string(g_mime_part_get_content_encoding(part));
    const char* filename = g_mime_part_get_filename(part);
    out << "  (" << (enc ? enc : "7bit") << ", " << bytes.size() << " bytes"
        << (filename ? std::string(", ") + printable(filename, 80) : "") << ")\n";
    bool pkcs7 = ct && (g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
                        g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime") ||
                        g_mime_content_type_is_type(ct, "application", "pkcs7-signature") ||
                        g_mime_content_type_is_type(ct, "application", "x-pkcs7-signature"));
    if (!pkcs7) return;
    auto d = describe_cms(bytes);
    for (const auto& line : d.lines) out << indent(level + 2) << line << "\n";
    bool signature = d.has_embedded || ctx.detached;
    if (signature && ctx.verifier)
        out << indent(level + 2) << ctx.verifier->verify(bytes, d.has_embedded ? std::nullopt : ctx.detached,
                                                           std::time(nullptr)).text
            << "\n";
    if (d.has_embedded) show_entity_bytes(d.embedded_content, level + 3, out, ctx);
}

}  // namespace

int run_show(int argc, char** argv) {
    po::options_description desc("Options");
    desc.add_options()
        ("help,h", "show this help")
        ("trusted-certs", po::value<std::string>(), "verify signatures against these trust anchors (PEM bundle; default the system bundle)")
        ("no-verify", "describe signatures without verifying them")
        ("file", po::value<std::string>(), "message file, - for standard input");
    po::positional_options_description pos;
    pos.add("file", 1);
    return guarded("show", [&]() -> int {
        auto vm = parse_command_line(argc, argv, desc, &pos);
        const char* usage =
            "usage: sealpost show [--trusted-certs FILE] FILE | -\n\nPrints the headers and the MIME tree of a "
            "message, with what is inside S/MIME parts, and verifies each signature and the signer's chain\n"
            "(\"signature good, signer alice@example.org, chain to <root>\", or why not).\n\n";
        if (vm.count("help")) {
            std::cout << usage << desc << "\n" << kExitCodeHelp;
            return 0;
        }
        if (!vm.count("file")) {
            std::cerr << usage << "give a message file, or - to read standard input\n";
            return kExitUsage;
        }
        std::unique_ptr<SignatureVerifier> verifier;
        if (!vm.count("no-verify"))
            verifier = std::make_unique<SignatureVerifier>(
                vm.count("trusted-certs") ? vm["trusted-certs"].as<std::string>() : kSystemBundle);
        std::string file = vm["file"].as<std::string>();
        std::string raw = read_input(file, 64 * 1024 * 1024);
        auto msg = parse_message(raw, MimeLimits{64 * 1024 * 1024, 64, 10000});
        GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(msg.get()));
        for (int i = 0, n = g_mime_header_list_get_count(headers); i < n; ++i) {
            GMimeHeader* h = g_mime_header_list_get_header_at(headers, i);
            const char* v = g_mime_header_get_value(h);
            std::cout << g_mime_header_get_name(h) << ": " << printable(v ? v : "", 300) << "\n";
        }
        std::cout << "\n";
        show_object(g_mime_message_get_mime_part(msg.get()), 0, std::cout, ShowContext{verifier.get(), {}});
        return 0;
    });
}

}  // namespace sealpost
