#include "scenario/field_reader.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace stepsim {

std::string describe_json(const Json& v) {
  std::string text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  switch (v.type()) {
    case Json::value_t::string: return text + " (a string)";
    case Json::value_t::boolean: return text + " (a boolean)";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "a list";
    case Json::value_t::null: return "null";
    default: return text;
  }
}

FieldReader::FieldReader(const JsonDocument& doc, const Json& object, std::string path,
                         Diagnostics& diags)
    : doc_(doc), object_(object.is_object() ? &object : nullptr), path_(std::move(path)), diags_(diags) {
  if (!object_) {
    diags_.add({doc_.file, doc_.line_of(path_), path_,
                "expected an object { ... }, got " + describe_json(object),
                "see the format page in docs/formats/"});
  }
}

const Json* FieldReader::lookup(const std::string& key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  if (!object_) return nullptr;
  auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool FieldReader::has(const std::string& key) { return lookup(key) != nullptr; }

void FieldReader::error(const std::string& key, const std::string& message, const std::string& fix) {
  std::string p = key.empty() ? path_ : path_of(key);
  diags_.add({doc_.file, doc_.line_of(p), p, message, fix});
}

void FieldReader::type_error(const std::string& key, const std::string& expected, const Json& got) {
  error(key, "expected " + expected + ", got " + describe_json(got), "");
}

void FieldReader::require(const std::string& key) {
  if (object_ && !lookup(key))
    error(key, "missing required key \"" + key + "\"", "add it (see docs/formats/)");
}

std::optional<int64_t> FieldReader::optional_integer(const std::string& key, int64_t min, int64_t max) {
  const Json* v = lookup(key);
  if (!v) return std::nullopt;
  std::string expected = max == std::numeric_limits<int32_t>::max()
                             ? fmt::format("an integer >= {}", min)
                             : fmt::format("an integer in [{}, {}]", min, max);
  bool integral = v->is_number_integer() ||
                  (v->is_number_float() && std::isfinite(v->get<double>()) &&
                   std::floor(v->get<double>()) == v->get<double>() && std::fabs(v->get<double>()) < 9e15);
  if (!integral) {
    type_error(key, expected, *v);
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
    type_error(key, expected, *v);
    return std::nullopt;
  }
  int64_t x = v->is_number_float() ? static_cast<int64_t>(v->get<double>()) : v->get<int64_t>();
  if (x < min || x > max) {
    type_error(key, expected, *v);
    return std::nullopt;
  }
  return x;
}

int64_t FieldReader::integer_or(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  return optional_integer(key, min, max).value_or(fallback);
}

int64_t FieldReader::required_integer(const std::string& key, int64_t min, int64_t max) {
  require(key);
  return optional_integer(key, min, max).value_or(min);
}

std::optional<double> FieldReader::optional_number(const std::string& key, double min, double max) {
  const Json* v = lookup(key);
  if (!v) return std::nullopt;
  std::string expected = std::isinf(max) ? fmt::format("a number >= {}", min)
                                         : fmt::format("a number in [{}, {}]", min, max);
  if (!v->is_number()) {
    type_error(key, expected, *v);
    return std::nullopt;
  }
  double x = v->get<double>();
  if (!std::isfinite(x) || x < min || x > max) {
    type_error(key, expected, *v);
    return std::nullopt;
  }
  return x;
}

double FieldReader::number_or(const std::string& key, double fallback, double min, double max) {
  return optional_number(key, min, max).value_or(fallback);
}

double FieldReader::required_number(const std::string& key, double min, double max) {
  require(key);
  return optional_number(key, min, max).value_or(min);
}

std::optional<std::string> FieldReader::optional_string(const std::string& key) {
  const Json* v = lookup(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    type_error(key, "a string", *v);
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::string FieldReader::string_or(const std::string& key, const std::string& fallback) {
  return optional_string(key).value_or(fallback);
}

std::string FieldReader::required_string(const std::string& key) {
  require(key);
  return optional_string(key).value_or("");
}

std::string FieldReader::choice(const std::string& key, const std::string& fallback,
                                const std::vector<std::string>& options) {
  auto s = optional_string(key);
  if (!s) return fallback;
  if (std::find(options.begin(), options.end(), *s) != options.end()) return *s;
  std::string list = fmt::format("{}", fmt::join(options, ", "));
  std::string hint = closest_match(*s, options);
  error(key, "\"" + *s + "\" is not one of: " + list,
        hint.empty() ? "use one of the listed values" : "did you mean \"" + hint + "\"?");
  return fallback;
}

bool FieldReader::boolean_or(const std::string& key, bool fallback) {
  const Json* v = lookup(key);
  if (!v) return fallback;
  if (!v->is_boolean()) {
    type_error(key, "true or false", *v);
    return fallback;
  }
  return v->get<bool>();
}

const Json* FieldReader::member(const std::string& key) { return lookup(key); }

const Json* FieldReader::object_member(const std::string& key) {
  const Json* v = lookup(key);
  if (v && !v->is_object()) {
    type_error(key, "an object { ... }", *v);
    return nullptr;
  }
  return v;
}

const Json* FieldReader::array_member(const std::string& key) {
  const Json* v = lookup(key);
  if (v && !v->is_array()) {
    type_error(key, "a list [ ... ]", *v);
    return nullptr;
  }
  return v;
}

void FieldReader::finish() {
  if (!object_) return;
  for (auto it = object_->begin(); it != object_->end(); ++it) {
    if (std::find(known_.begin(), known_.end(), it.key()) != known_.end()) continue;
    std::string hint = closest_match(it.key(), known_);
    std::vector<std::string> sorted = known_;
    std::sort(sorted.begin(), sorted.end());
    error(it.key(), "unknown key \"" + it.key() + "\"",
          hint.empty() ? fmt::format("remove it; known keys here: {}", fmt::join(sorted, ", "))
                       : "did you mean \"" + hint + "\"?");
  }
}

}  // namespace stepsim
