// The one mapping between the control protocol's typed records and JSON.
//
// A record lists its members once, in a static `fields` template:
//
//   struct QueueRef {
//     QueueId id = 0;
//     std::string name;
//     template <typename V, typename Self> static void fields(V& v, Self& self) {
//       v("id", self.id);
//       v("name", self.name);
//     }
//   };
//
// and that list drives both directions: to_json() writes it, from_json()
// reads it strictly. A member that is missing, null where the type is not
// std::optional, of another JSON type, or a number that does not fit is an
// error naming its path; members the record does not list are tolerated (a
// newer peer may add some), except in a request's parameters, where they are
// refused. Nothing here throws.
//
// What a `fields` list may say:
//   v(key, member)                 required; a std::optional member is written
//                                  as null when empty and must be present
//   v.omittable(key, member)       a std::optional is left out when empty; absent
//                                  or null reads as empty (or as the default of
//                                  another type, which is always written)
//   v.null_or_absent(key, optional) written as null when empty; absent or null reads as empty
//   ..., Limit{n}                  an unsigned member's largest value (default: its type's)
//   ..., check                     Result<void>(const T&): a rule the value must follow
//   ..., Inside{subject}           errors inside the member's elements or
//                                  members start with "subject: "
//   v.about(subject)               errors from here on start with "subject: "
#pragma once

#include <concepts>
#include <cstdint>
#include <expected>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/json_path.h"
#include "base/error.h"
#include "base/mac_address.h"
#include "base/port_kind.h"
#include "base/vlan_mode.h"

namespace vmq::api {

using json = nlohmann::json;

// The largest value an unsigned member may take.
struct Limit {
  std::uint64_t max;
};

// Errors inside a member (in its elements or members) are about `subject`.
struct Inside {
  std::string subject;
};

// Why a leaf value was refused: it is not of the expected JSON type (`text`
// says what was expected), or its value breaks a rule (`text` says why).
struct ValueProblem {
  bool wrong_type = true;
  std::string text;
};

// Leaf types other than booleans, strings, numbers, vectors and records
// specialize Codec: static json encode(const T&) and static
// std::expected<T, ValueProblem> decode(const json&).
template <typename T>
struct Codec;

template <>
struct Codec<MacAddress> {
  static json encode(const MacAddress& mac) { return mac.to_string(); }
  static std::expected<MacAddress, ValueProblem> decode(const json& j);
};

template <>
struct Codec<VlanMode> {
  static json encode(VlanMode mode) { return std::string(to_string(mode)); }
  static std::expected<VlanMode, ValueProblem> decode(const json& j);
};

template <>
struct Codec<PortKind> {
  static json encode(PortKind kind) { return std::string(to_string(kind)); }
  static std::expected<PortKind, ValueProblem> decode(const json& j);
};

// Visits a record's fields to learn its keys (a request refuses others).
class KeyCollector {
 public:
  template <typename T, typename... Rule>
  void operator()(std::string_view key, const T&, const Rule&...) {
    keys.push_back(key);
  }
  template <typename T, typename... Rule>
  void omittable(std::string_view key, const T&, const Rule&...) {
    keys.push_back(key);
  }
  template <typename T, typename... Rule>
  void null_or_absent(std::string_view key, const T&, const Rule&...) {
    keys.push_back(key);
  }
  void about(const std::string&) {}

  std::vector<std::string_view> keys;
};

template <typename T>
concept Record = requires(T& record, KeyCollector& collector) { T::fields(collector, record); };

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {
  using Element = T;
};

template <typename T>
concept UnsignedNumber = std::unsigned_integral<T> && !std::same_as<T, bool>;

// ---- writing ---------------------------------------------------------------

template <typename T>
json encode_value(const T& value);

class Writer {
 public:
  template <typename T, typename... Rule>
  void operator()(std::string_view key, const T& value, const Rule&...) {
    object_[std::string(key)] = encode_value(value);
  }
  template <typename T, typename... Rule>
  void operator()(std::string_view key, const std::optional<T>& value, const Rule&...) {
    object_[std::string(key)] = value ? encode_value(*value) : json(nullptr);
  }
  template <typename T, typename... Rule>
  void omittable(std::string_view key, const std::optional<T>& value, const Rule&...) {
    if (value) object_[std::string(key)] = encode_value(*value);
  }
  template <typename T, typename... Rule>
  void omittable(std::string_view key, const T& value, const Rule&...) {
    object_[std::string(key)] = encode_value(value);
  }
  template <typename T, typename... Rule>
  void null_or_absent(std::string_view key, const std::optional<T>& value, const Rule&...) {
    (*this)(key, value);
  }
  void about(const std::string&) {}

  json take() { return std::move(object_); }

 private:
  json object_ = json::object();
};

template <typename T>
json encode_value(const T& value) {
  if constexpr (Record<T>) {
    Writer writer;
    T::fields(writer, value);
    return writer.take();
  } else if constexpr (IsVector<T>::value) {
    json array = json::array();
    for (const auto& element : value) array.push_back(encode_value(element));
    return array;
  } else if constexpr (std::is_same_v<T, json> || std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                       std::is_arithmetic_v<T>) {
    return json(value);
  } else {
    return Codec<T>::encode(value);
  }
}

// ---- reading ---------------------------------------------------------------

template <typename T>
Result<void> decode_value(const json& j, const Path& path, Wording wording, T& out, std::uint64_t limit);

// Reads one JSON object into a record, member by member; keeps the first error.
class Reader {
 public:
  Reader(const json& object, const Path& path, Wording wording) : object_(object), path_(path), wording_(wording) {}

  template <typename T, typename... Rule>
  void operator()(std::string_view key, T& out, const Rule&... rules) {
    read(key, out, /*may_be_absent=*/false, rules...);
  }
  template <typename T, typename... Rule>
  void omittable(std::string_view key, T& out, const Rule&... rules) {
    read(key, out, /*may_be_absent=*/true, rules...);
  }
  template <typename T, typename... Rule>
  void null_or_absent(std::string_view key, std::optional<T>& out, const Rule&... rules) {
    read(key, out, /*may_be_absent=*/true, rules...);
  }
  void about(std::string subject) { subject_ = std::move(subject); }

  const std::optional<Error>& error() const { return error_; }

 private:
  template <typename T, typename... Rule>
  void read(std::string_view key, T& out, bool may_be_absent, const Rule&... rules) {
    if (error_) return;
    const Path path(path_, key);
    const auto it = object_.find(key);
    // A request's null is an absent parameter, as vmqd has always read it.
    const bool absent = it == object_.end() || (wording_ == Wording::request && it->is_null());
    if constexpr (IsOptional<T>::value) {
      if (absent && (may_be_absent || wording_ == Wording::request)) return out.reset();
      if (!absent && it->is_null()) return out.reset();
    } else {
      if (may_be_absent && (absent || it->is_null())) return;
    }
    if (absent) return fail(missing_value(path, wording_));
    const std::string* inside = nullptr;
    ((find_inside(rules, inside)), ...);
    if (inside && holds_elements<T>(*it)) {
      const std::string outer = std::exchange(subject_, *inside);
      read_present(*it, path, out, rules...);
      if (error_ && !outer.empty()) error_->message = outer + ": " + error_->message;
      subject_ = outer;
      return;
    }
    read_present(*it, path, out, rules...);
  }

  template <typename T, typename... Rule>
  void read_present(const json& value_json, const Path& path, T& out, const Rule&... rules) {
    std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
    ((apply_limit(rules, limit)), ...);
    if constexpr (IsOptional<T>::value) {
      typename T::value_type value{};
      if (auto ok = decode_value(value_json, path, wording_, value, limit); !ok) return fail(ok.error());
      if (auto ok = (check(path, value, rules) && ...); !ok) return;
      out = std::move(value);
    } else {
      if (auto ok = decode_value(value_json, path, wording_, out, limit); !ok) return fail(ok.error());
      (void)(check(path, out, rules) && ...);
    }
  }

  template <typename T>
  struct IsOptional : std::false_type {};
  template <typename T>
  struct IsOptional<std::optional<T>> : std::true_type {};

  // Whether `j` is the array or object a member of type T is made of.
  template <typename T>
  static bool holds_elements(const json& j) {
    if constexpr (IsOptional<T>::value) return holds_elements<typename T::value_type>(j);
    else if constexpr (IsVector<T>::value) return j.is_array();
    else if constexpr (Record<T>) return j.is_object();
    else return false;
  }
  template <typename R>
  static void apply_limit(const R& rule, std::uint64_t& limit) {
    if constexpr (std::is_same_v<R, Limit>) limit = rule.max;
  }
  template <typename R>
  static void find_inside(const R& rule, const std::string*& inside) {
    if constexpr (std::is_same_v<R, Inside>) inside = &rule.subject;
  }
  template <typename T, typename R>
  bool check(const Path& path, const T& value, const R& rule) {
    if constexpr (std::is_invocable_v<const R&, const T&>) {
      if (auto ok = rule(value); !ok) {
        fail(invalid_value(path, wording_, ok.error().message));
        return false;
      }
    }
    return true;
  }
  void fail(Error error) {
    if (!subject_.empty()) error.message = subject_ + ": " + error.message;
    error_ = std::move(error);
  }

  const json& object_;
  const Path& path_;
  Wording wording_;
  std::string subject_;
  std::optional<Error> error_;
};

// Members a request's parameters do not know are refused before any is read.
template <Record T>
Result<void> refuse_unknown_keys(const json& object) {
  T unused{};
  KeyCollector collector;
  T::fields(collector, unused);
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (std::string_view k : collector.keys) known = known || k == key;
    if (!known) return std::unexpected(unknown_parameter(key));
  }
  return {};
}

std::string integer_range(std::uint64_t max);

template <typename T>
Result<void> decode_value(const json& j, const Path& path, Wording wording, T& out, std::uint64_t limit) {
  if constexpr (Record<T>) {
    if (!j.is_object()) return std::unexpected(wrong_type(path, wording, "an object"));
    if (wording == Wording::request)
      if (auto ok = refuse_unknown_keys<T>(j); !ok) return ok;
    Reader reader(j, path, wording);
    T::fields(reader, out);
    if (reader.error()) return std::unexpected(*reader.error());
    return {};
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) return std::unexpected(wrong_type(path, wording, "an array"));
    out.clear();
    out.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
      typename IsVector<T>::Element element{};
      if (auto ok = decode_value(j[i], Path(path, i), wording, element, std::numeric_limits<std::uint64_t>::max());
          !ok)
        return ok;
      out.push_back(std::move(element));
    }
    return {};
  } else if constexpr (std::is_same_v<T, json>) {
    out = j;
    return {};
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) return std::unexpected(wrong_type(path, wording, "a string"));
    out = j.get<std::string>();
    return {};
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) return std::unexpected(wrong_type(path, wording, "true or false"));
    out = j.get<bool>();
    return {};
  } else if constexpr (UnsignedNumber<T>) {
    const std::uint64_t max = std::min<std::uint64_t>(limit, std::numeric_limits<T>::max());
    // No sign, fraction or boolean slips in, and the number fits.
    const bool fits = j.is_number_unsigned() ? j.get<std::uint64_t>() <= max
                                             : j.is_number_integer() && j.get<std::int64_t>() >= 0 &&
                                                   static_cast<std::uint64_t>(j.get<std::int64_t>()) <= max;
    if (!fits) return std::unexpected(wrong_type(path, wording, integer_range(max)));
    out = static_cast<T>(j.get<std::uint64_t>());
    return {};
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) return std::unexpected(wrong_type(path, wording, "a number"));
    out = j.get<T>();
    return {};
  } else {
    auto value = Codec<T>::decode(j);
    if (!value) {
      if (value.error().wrong_type) return std::unexpected(wrong_type(path, wording, value.error().text));
      return std::unexpected(invalid_value(path, wording, value.error().text));
    }
    out = std::move(*value);
    return {};
  }
}

// ---- entry points ----------------------------------------------------------

template <Record T>
json to_json(const T& record) {
  return encode_value(record);
}

// A reply, a state file's record, a migration document: errors name the path.
template <Record T>
Result<T> from_json(const json& j) {
  T out{};
  if (auto ok = decode_value(j, Path(), Wording::document, out, 0); !ok) return std::unexpected(ok.error());
  return out;
}

// A request's parameters: unknown ones refused, errors worded as vmqd's.
template <Record T>
Result<T> params_from_json(const json& j) {
  T out{};
  if (auto ok = decode_value(j, Path(), Wording::request, out, 0); !ok) return std::unexpected(ok.error());
  return out;
}

}  // namespace vmq::api
