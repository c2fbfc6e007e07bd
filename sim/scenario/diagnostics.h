// Diagnostics: errors as values, carried from every stage to the CLI.
//
// A Diagnostic says where (file, line, JSON path), what is wrong (with the numbers involved)
// and how to fix it. Stages collect them in a Diagnostics list instead of throwing; the CLI
// prints them and exits with status 2. Nothing here allocates global state.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stepsim {

struct Diagnostic {
  std::string file;     // path of the input file; empty for command-line input
  int line = 0;         // 1-based line of the offending value; 0 when unknown
  std::string path;     // JSON path such as "training.tp"; empty for whole-file errors
  std::string message;  // what is wrong, with the values involved
  std::string fix;      // what to change; may be empty when the message says it
};

// "file:line: path: message\n    fix: ..." on one or two lines.
std::string format_diagnostic(const Diagnostic& d);

class Diagnostics {
 public:
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  void append(const Diagnostics& other);
  bool ok() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  std::string to_string() const;  // every diagnostic, one block each

 private:
  std::vector<Diagnostic> items_;
};

// A value or the diagnostics explaining why there is none.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Diagnostics errors) : errors_(std::move(errors)) {}  // NOLINT
  bool ok() const { return value_.has_value(); }
  const T& value() const { return *value_; }
  T& value() { return *value_; }
  const Diagnostics& errors() const { return errors_; }

 private:
  std::optional<T> value_;
  Diagnostics errors_;
};

// Closest candidate by edit distance, for "did you mean" hints; empty if none is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace stepsim
