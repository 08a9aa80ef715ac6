// metrics.hpp: the process-wide metrics registry (in libsealpost_core.so, so
// the host and every plugin count into the same object) and its rendering in
// the Prometheus text exposition format 0.0.4.
//
// Debian 12 has no libprometheus-cpp-dev, so this is a small registry of our
// own: counters and histograms with fixed label names, created once at start
// (a family's definition is a constant here), children created on first use.
// Thread-safe (one mutex per family). Nothing here throws on use: a wrong
// number of label values is a programming error caught by an assert in
// debug builds and mapped to the label value "?" in release builds, so a
// metric is never silently dropped. Scrape-time values (the store's
// certificates) are not kept here: the admin API appends them when it
// renders (store_metrics in recipient_status.hpp).
#pragma once

#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::metrics {

class Family {
public:
    Family(std::string name, std::string help, std::vector<std::string> labels);
    virtual ~Family() = default;
    virtual void render(std::string& out) const = 0;
    const std::string& name() const { return name_; }

protected:
    std::vector<std::string> key(std::initializer_list<std::string_view> values) const;
    std::string label_text(const std::vector<std::string>& values, std::string_view extra = {}) const;

    std::string name_, help_;
    std::vector<std::string> labels_;
    mutable std::mutex mutex_;
};

class CounterFamily : public Family {
public:
    using Family::Family;
    void inc(std::initializer_list<std::string_view> label_values, double by = 1);
    double value(std::initializer_list<std::string_view> label_values) const;  // 0 when never counted
    void render(std::string& out) const override;

private:
    std::map<std::vector<std::string>, double> values_;
};

class HistogramFamily : public Family {
public:
    HistogramFamily(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> buckets);
    void observe(std::initializer_list<std::string_view> label_values, double value);
    void render(std::string& out) const override;

private:
    struct Series {
        std::vector<unsigned long long> counts;  // per bucket, not cumulative
        unsigned long long count = 0;
        double sum = 0;
    };
    std::vector<double> buckets_;
    std::map<std::vector<std::string>, Series> series_;
};

// The families sealpost counts (names and labels: README "Admin API and metrics").
CounterFamily& smtp_messages();        // sealpost_smtp_messages_total{result, reason}
HistogramFamily& smtp_reply_seconds(); // sealpost_smtp_reply_seconds{result}
CounterFamily& copies();               // sealpost_copies_total{kind, outcome}
HistogramFamily& delivery_seconds();   // sealpost_transport_delivery_seconds{transport}
CounterFamily& webhook_requests();     // sealpost_webhook_requests_total{status}
HistogramFamily& webhook_seconds();    // sealpost_webhook_request_seconds
CounterFamily& collector_verdicts();   // sealpost_collector_verdicts_total{verdict, reason}
CounterFamily& admin_requests();       // sealpost_admin_requests_total{status}

// Every family above plus sealpost_build_info{version}, in the text format.
std::string render_all();

// Helpers for scrape-time gauges rendered elsewhere.
std::string escape_label_value(std::string_view v);
std::string format_value(double v);

}  // namespace sealpost::metrics
