// Writes Prometheus's text exposition format 0.0.4: metric families, each a
// HELP and a TYPE line followed by its samples, label values escaped. A
// family's header is written with its first sample, so a family that has no
// sample (no queue yet, a counter that could not be read) leaves no trace.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vmq::service {

inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

struct Label {
  std::string name;
  std::string value;
};
using Labels = std::vector<Label>;

enum class MetricType { counter, gauge, histogram };

// A histogram's cumulative bucket counts: counts[i] observations were at most
// upper_bounds[i]; `count` is also the +Inf bucket.
struct HistogramSample {
  std::span<const double> upper_bounds;
  std::span<const std::uint64_t> counts;
  double sum = 0;
  std::uint64_t count = 0;
};

class Exposition {
 public:
  // Starts a family; its samples must follow before the next family starts.
  void family(std::string_view name, MetricType type, std::string_view help);
  void sample(const Labels& labels, std::uint64_t value);
  void sample(const Labels& labels, double value);
  void sample(const Labels& labels, const HistogramSample& histogram);

  const std::string& text() const { return text_; }

 private:
  void header_once();
  void line(std::string_view suffix, const Labels& labels, std::string_view value);

  std::string text_;
  std::string name_;
  std::string pending_header_;
};

// Label values: backslash, double quote and line feed are escaped.
std::string escape_label_value(std::string_view value);
// HELP text: backslash and line feed are escaped.
std::string escape_help(std::string_view text);
// A sample value as Prometheus reads it: shortest exact decimal, NaN, +Inf, -Inf.
std::string format_value(double value);

}  // namespace vmq::service
