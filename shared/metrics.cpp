// metrics.cpp: the registry's families and the Prometheus text format.
#include "metrics.hpp"

#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#ifndef SEALPOST_VERSION
#define SEALPOST_VERSION "unknown"
#endif

namespace sealpost::metrics {
namespace {

const std::vector<double> kLatencyBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

std::string escape_label_value(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string format_value(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    char buf[64];
    if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
    else
        for (int precision = 15; precision <= 17; ++precision) {  // the shortest text that reads back as v
            std::snprintf(buf, sizeof buf, "%.*g", precision, v);
            if (std::strtod(buf, nullptr) == v) break;
        }
    return buf;
}

Family::Family(std::string name, std::string help, std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

std::vector<std::string> Family::key(std::initializer_list<std::string_view> values) const {
    assert(values.size() == labels_.size());
    std::vector<std::string> k;
    for (auto v : values) k.emplace_back(v);
    k.resize(labels_.size(), "?");
    return k;
}

std::string Family::label_text(const std::vector<std::string>& values, std::string_view extra) const {
    std::string out;
    for (std::size_t i = 0; i < labels_.size(); ++i)
        out += (out.empty() ? "" : ",") + labels_[i] + "=\"" + escape_label_value(values[i]) + "\"";
    if (!extra.empty()) out += (out.empty() ? "" : ",") + std::string(extra);
    return out.empty() ? "" : "{" + out + "}";
}

void CounterFamily::inc(std::initializer_list<std::string_view> label_values, double by) {
    auto k = key(label_values);
    std::lock_guard lock(mutex_);
    values_[k] += by;
}

double CounterFamily::value(std::initializer_list<std::string_view> label_values) const {
    auto k = key(label_values);
    std::lock_guard lock(mutex_);
    auto it = values_.find(k);
    return it == values_.end() ? 0 : it->second;
}

void CounterFamily::render(std::string& out) const {
    header(out, name_, help_, "counter");
    std::lock_guard lock(mutex_);
    for (const auto& [k, v] : values_) out += name_ + label_text(k) + " " + format_value(v) + "\n";
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                                 std::vector<double> buckets)
    : Family(std::move(name), std::move(help), std::move(labels)), buckets_(std::move(buckets)) {}

void HistogramFamily::observe(std::initializer_list<std::string_view> label_values, double value) {
    auto k = key(label_values);
    std::lock_guard lock(mutex_);
    auto& s = series_[k];
    s.counts.resize(buckets_.size());
    for (std::size_t i = 0; i < buckets_.size(); ++i)
        if (value <= buckets_[i]) {
            ++s.counts[i];
            break;
        }
    ++s.count;
    s.sum += value;
}

void HistogramFamily::render(std::string& out) const {
    header(out, name_, help_, "histogram");
    std::lock_guard lock(mutex_);
    for (const auto& [k, s] : series_) {
        unsigned long long cumulative = 0;
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            cumulative += s.counts[i];
            out += name_ + "_bucket" + label_text(k, "le=\"" + format_value(buckets_[i]) + "\"") + " " +
                   std::to_string(cumulative) + "\n";
        }
        out += name_ + "_bucket" + label_text(k, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
        out += name_ + "_sum" + label_text(k) + " " + format_value(s.sum) + "\n";
        out += name_ + "_count" + label_text(k) + " " + std::to_string(s.count) + "\n";
    }
}

CounterFamily& smtp_messages() {
    static CounterFamily f("sealpost_smtp_messages_total", "Messages answered after DATA, by result and reason.",
                           {"result", "reason"});
    return f;
}
HistogramFamily& smtp_reply_seconds() {
    static HistogramFamily f("sealpost_smtp_reply_seconds", "Time from the end of DATA to the SMTP reply.",
                             {"result"}, kLatencyBuckets);
    return f;
}
CounterFamily& copies() {
    static CounterFamily f("sealpost_copies_total", "Copies handed to the transport, by kind and outcome.",
                           {"kind", "outcome"});
    return f;
}
HistogramFamily& delivery_seconds() {
    static HistogramFamily f("sealpost_transport_delivery_seconds", "Time the transport took for one copy.",
                             {"transport"}, kLatencyBuckets);
    return f;
}
CounterFamily& webhook_requests() {
    static CounterFamily f("sealpost_webhook_requests_total", "Webhook HTTP requests, by response status.",
                           {"status"});
    return f;
}
HistogramFamily& webhook_seconds() {
    static HistogramFamily f("sealpost_webhook_request_seconds", "Time to answer one webhook request.", {},
                             kLatencyBuckets);
    return f;
}
CounterFamily& collector_verdicts() {
    static CounterFamily f("sealpost_collector_verdicts_total", "Collector verdicts, by verdict and reason code.",
                           {"verdict", "reason"});
    return f;
}
CounterFamily& admin_requests() {
    static CounterFamily f("sealpost_admin_requests_total", "Admin listener requests, by response status.",
                           {"status"});
    return f;
}

std::string render_all() {
    std::string out;
    header(out, "sealpost_build_info", "The running sealpost's version.", "gauge");
    out += "sealpost_build_info{version=\"" + escape_label_value(SEALPOST_VERSION) + "\"} 1\n";
    for (const Family* f : std::initializer_list<const Family*>{
             &smtp_messages(), &smtp_reply_seconds(), &copies(), &delivery_seconds(), &webhook_requests(),
             &webhook_seconds(), &collector_verdicts(), &admin_requests()})
        f->render(out);
    return out;
}

}  // namespace sealpost::metrics
