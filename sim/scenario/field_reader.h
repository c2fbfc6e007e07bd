// FieldReader: strict, typed access to the members of one JSON object.
//
// Every accessor records the key as known; finish() then reports each member that no accessor
// asked for as an unknown key, with a "did you mean" hint. Type and range problems become
// Diagnostics (file, line, JSON path, expected value) and the accessor returns the fallback, so
// one pass reports every problem in a file. The reader borrows the document and the
// Diagnostics; both must outlive it.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "scenario/json_document.h"

namespace stepsim {

class FieldReader {
 public:
  FieldReader(const JsonDocument& doc, const Json& object, std::string path, Diagnostics& diags);

  bool has(const std::string& key);  // present and not null

  std::optional<int64_t> optional_integer(const std::string& key, int64_t min,
                                          int64_t max = std::numeric_limits<int32_t>::max());
  int64_t integer_or(const std::string& key, int64_t fallback, int64_t min,
                     int64_t max = std::numeric_limits<int32_t>::max());
  int64_t required_integer(const std::string& key, int64_t min,
                           int64_t max = std::numeric_limits<int32_t>::max());

  std::optional<double> optional_number(const std::string& key, double min, double max);
  double number_or(const std::string& key, double fallback, double min, double max);
  double required_number(const std::string& key, double min, double max);

  std::optional<std::string> optional_string(const std::string& key);
  std::string string_or(const std::string& key, const std::string& fallback);
  std::string required_string(const std::string& key);
  // One of `options`; the fallback is returned when the key is absent.
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& options);

  bool boolean_or(const std::string& key, bool fallback);

  // Raw member access (nullptr when absent or null); the key counts as known.
  const Json* member(const std::string& key);
  const Json* object_member(const std::string& key);  // error if present but not an object
  const Json* array_member(const std::string& key);   // error if present but not an array

  void error(const std::string& key, const std::string& message, const std::string& fix);
  void require(const std::string& key);  // records "missing required key" when absent

  std::string path_of(const std::string& key) const { return join_path(path_, key); }
  const JsonDocument& document() const { return doc_; }
  Diagnostics& diagnostics() { return diags_; }
  const std::string& path() const { return path_; }
  bool valid_object() const { return object_ != nullptr; }

  // Reports members nobody asked for. Call once, after all accessors.
  void finish();

 private:
  const Json* lookup(const std::string& key);
  void type_error(const std::string& key, const std::string& expected, const Json& got);

  const JsonDocument& doc_;
  const Json* object_;
  std::string path_;
  Diagnostics& diags_;
  std::vector<std::string> known_;
};

// Short human description of a JSON value for error messages: "\"four\" (a string)".
std::string describe_json(const Json& value);

}  // namespace stepsim
