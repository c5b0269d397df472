#include "service/metrics_exposition.h"

#include <cmath>

#include <fmt/format.h>

namespace vmq::service {

namespace {

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

void Exposition::family(std::string_view name, MetricType type, std::string_view help) {
  name_ = name;
  pending_header_ = fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type_name(type));
}

void Exposition::header_once() {
  text_ += pending_header_;
  pending_header_.clear();
}

void Exposition::line(std::string_view suffix, const Labels& labels, std::string_view value) {
  header_once();
  text_ += name_;
  text_ += suffix;
  if (!labels.empty()) {
    text_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i) text_ += ',';
      text_ += labels[i].name;
      text_ += "=\"";
      text_ += escape_label_value(labels[i].value);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
  text_ += value;
  text_ += '\n';
}

void Exposition::sample(const Labels& labels, std::uint64_t value) { line("", labels, fmt::format("{}", value)); }

void Exposition::sample(const Labels& labels, double value) { line("", labels, format_value(value)); }

void Exposition::sample(const Labels& labels, const HistogramSample& h) {
  Labels with_le = labels;
  with_le.push_back({"le", ""});
  for (std::size_t i = 0; i < h.upper_bounds.size() && i < h.counts.size(); ++i) {
    with_le.back().value = format_value(h.upper_bounds[i]);
    line("_bucket", with_le, fmt::format("{}", h.counts[i]));
  }
  with_le.back().value = "+Inf";
  line("_bucket", with_le, fmt::format("{}", h.count));
  line("_sum", labels, format_value(h.sum));
  line("_count", labels, fmt::format("{}", h.count));
}

}  // namespace vmq::service
