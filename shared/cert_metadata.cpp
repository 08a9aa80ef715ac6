// cert_metadata.cpp: the one reader and the one writer of `<address>.json`.
#include "cert_metadata.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "cert_info.hpp"

namespace sealpost {
namespace {

using nlohmann::json;

json time_or_null(const std::optional<std::time_t>& t) { return t ? json(format_time(*t)) : json(nullptr); }

std::string string_field(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::time_t> time_field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return parse_iso_time(it->get<std::string>());
}

std::vector<std::string> strings_field(const json& j, const char* key) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || !it->is_array()) return out;
    for (const auto& v : *it)
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

}  // namespace

bool CertMetadata::announces(std::initializer_list<std::string_view> names) const {
    return std::any_of(capabilities.begin(), capabilities.end(), [&](const std::string& c) {
        return std::find(names.begin(), names.end(), c) != names.end();
    });
}

const char* to_string(CertStatus s) {
    switch (s) {
        case CertStatus::Current: return "current";
        case CertStatus::Superseded: return "superseded";
        case CertStatus::Expired: return "expired";
        case CertStatus::Revoked: return "revoked";
    }
    return "?";
}

std::optional<CertStatus> cert_status_from_string(std::string_view s) {
    for (auto st : {CertStatus::Current, CertStatus::Superseded, CertStatus::Expired, CertStatus::Revoked})
        if (s == to_string(st)) return st;
    return std::nullopt;
}

std::string metadata_to_json_text(const CertMetadata& m) {
    json j = {
        {"address", m.address},
        {"fingerprint", m.fingerprint},
        {"collected_at", time_or_null(m.collected_at)},
        {"source", m.source},
        {"message_id", m.message_id},
        {"dkim", m.dkim ? json{{"domain", m.dkim->domain}, {"selector", m.dkim->selector}} : json(nullptr)},
        {"signing_time", time_or_null(m.signing_time)},
        {"chain_sha256", m.chain_sha256},
        {"not_after", time_or_null(m.not_after)},
        {"capabilities", m.capabilities},
        {"signer_fingerprint", m.signer_fingerprint},
        {"status", to_string(m.status)},
    };
    if (!m.issuers_pem.empty()) j["issuers_pem"] = m.issuers_pem;
    if (!m.revocation.empty()) j["revocation"] = m.revocation;
    return j.dump(2) + "\n";
}

std::optional<CertMetadata> metadata_from_json_text(std::string_view text) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    CertMetadata m;
    m.recorded = true;
    m.address = string_field(j, "address");
    m.fingerprint = string_field(j, "fingerprint");
    m.collected_at = time_field(j, "collected_at");
    m.source = string_field(j, "source");
    m.message_id = string_field(j, "message_id");
    if (auto d = j.find("dkim"); d != j.end() && d->is_object())
        m.dkim = DkimEvidence{string_field(*d, "domain"), string_field(*d, "selector")};
    m.signing_time = time_field(j, "signing_time");
    m.chain_sha256 = strings_field(j, "chain_sha256");
    m.not_after = time_field(j, "not_after");
    m.issuers_pem = string_field(j, "issuers_pem");
    m.revocation = string_field(j, "revocation");
    m.capabilities = strings_field(j, "capabilities");
    m.signer_fingerprint = string_field(j, "signer_fingerprint");
    if (auto st = cert_status_from_string(string_field(j, "status"))) m.status = *st;
    return m;
}

}  // namespace sealpost
