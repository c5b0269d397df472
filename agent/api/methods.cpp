#include "api/methods.h"

namespace vmq::api {
namespace {

template <typename T, std::size_t N>
std::expected<T, ValueProblem> one_of(const json& j, const std::pair<T, std::string_view> (&names)[N]) {
  if (!j.is_string()) return std::unexpected(ValueProblem{true, "a string"});
  const std::string text = j.get<std::string>();
  std::string choices;
  for (const auto& [value, name] : names) {
    if (name == text) return value;
    choices += fmt::format("{}\"{}\"", choices.empty() ? "" : " or ", name);
  }
  return std::unexpected(ValueProblem{false, fmt::format("\"{}\" is none of {}", text, choices)});
}

template <typename T, std::size_t N>
json name_of(T value, const std::pair<T, std::string_view> (&names)[N]) {
  for (const auto& [v, name] : names)
    if (v == value) return std::string(name);
  return nullptr;
}

constexpr std::pair<TraceDestination, std::string_view> kDestinations[] = {
    {TraceDestination::queue, "queue"}, {TraceDestination::default_queue, "default"}};
constexpr std::pair<CpuChoice, std::string_view> kCpuChoices[] = {
    {CpuChoice::document, "document"}, {CpuChoice::given, "given"}, {CpuChoice::automatic, "auto"}};

}  // namespace

json Codec<RestoreCpu>::encode(const RestoreCpu& cpu) { return cpu.number ? json(*cpu.number) : json("auto"); }

std::expected<RestoreCpu, ValueProblem> Codec<RestoreCpu>::decode(const json& j) {
  if (j.is_string() && j.get<std::string>() == "auto") return RestoreCpu{};
  const bool in_range = j.is_number_unsigned() ? j.get<std::uint64_t>() <= kCpuMax
                                               : j.is_number_integer() && j.get<std::int64_t>() >= 0 &&
                                                     j.get<std::int64_t>() <= static_cast<std::int64_t>(kCpuMax);
  if (!in_range) return std::unexpected(ValueProblem{true, "a CPU number or \"auto\""});
  return RestoreCpu{static_cast<std::uint32_t>(j.get<std::uint64_t>())};
}

json Codec<TraceDestination>::encode(TraceDestination destination) { return name_of(destination, kDestinations); }

std::expected<TraceDestination, ValueProblem> Codec<TraceDestination>::decode(const json& j) {
  return one_of(j, kDestinations);
}

json Codec<CpuChoice>::encode(CpuChoice choice) { return name_of(choice, kCpuChoices); }

std::expected<CpuChoice, ValueProblem> Codec<CpuChoice>::decode(const json& j) { return one_of(j, kCpuChoices); }

}  // namespace vmq::api
