#include "scenario/json_document.h"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace stepsim {

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string index_path(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

int JsonDocument::line_of(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = lines.find(p);
    if (it != lines.end()) return it->second;
    if (p.empty()) return 0;
    size_t cut = p.find_last_of(".[");
    p = cut == std::string::npos ? std::string() : p.substr(0, cut);
  }
}

namespace {

// A light pass over the text that records where each value starts. It runs before the real
// parser so that it can also refuse pathological nesting and duplicate keys. It assumes
// nothing about validity: the real parser reports syntax errors.
class LineScanner {
 public:
  LineScanner(const std::string& text, std::unordered_map<std::string, int>& lines)
      : text_(text), lines_(lines) {}

  // Returns false with `error` set when the nesting is too deep or a key repeats.
  bool run(Diagnostic& error) {
    for (size_t i = 0; i < text_.size(); ++i) {
      char c = text_[i];
      if (c == '\n') {
        ++line_;
      } else if (c == '/' && i + 1 < text_.size() && text_[i + 1] == '/') {
        while (i + 1 < text_.size() && text_[i + 1] != '\n') ++i;
      } else if (c == '/' && i + 1 < text_.size() && text_[i + 1] == '*') {
        i += 2;
        while (i + 1 < text_.size() && !(text_[i] == '*' && text_[i + 1] == '/')) {
          if (text_[i] == '\n') ++line_;
          ++i;
        }
        ++i;
      } else if (c == '"') {
        std::string s = read_string(i);
        if (!on_string(s, error)) return false;
      } else if (c == '{' || c == '[') {
        value_starts();
        if (frames_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
          error.line = line_;
          error.message = "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels";
          error.fix = "stepsim files are shallow; check that this is the intended file";
          return false;
        }
        frames_.push_back(Frame{c == '{', current_path(), "", 0, c == '[', {}});
      } else if (c == '}' || c == ']') {
        if (!frames_.empty()) frames_.pop_back();
      } else if (c == ':') {
        if (!frames_.empty()) frames_.back().value_pending = true;
      } else if (c == ',') {
        if (!frames_.empty()) {
          Frame& f = frames_.back();
          if (f.is_object) {
            f.key.clear();
          } else {
            ++f.index;
            f.value_pending = true;
          }
        }
      } else if (!std::isspace(static_cast<unsigned char>(c))) {
        value_starts();
      }
    }
    return true;
  }

 private:
  struct Frame {
    bool is_object;
    std::string path;
    std::string key;
    size_t index;
    bool value_pending;
    std::set<std::string> keys;
  };

  std::string read_string(size_t& i) {
    std::string s;
    for (++i; i < text_.size() && text_[i] != '"'; ++i) {
      if (text_[i] == '\\' && i + 1 < text_.size()) ++i;
      if (text_[i] == '\n') ++line_;
      s += text_[i];
    }
    return s;
  }

  bool on_string(const std::string& s, Diagnostic& error) {
    if (!frames_.empty() && frames_.back().is_object && !frames_.back().value_pending &&
        frames_.back().key.empty()) {
      Frame& f = frames_.back();
      f.key = s;
      std::string path = join_path(f.path, s);
      if (!f.keys.insert(s).second) {
        error.line = line_;
        error.path = path;
        error.message = "key \"" + s + "\" appears twice in the same object";
        error.fix = "keep one of them; JSON parsers silently drop the first";
        return false;
      }
      lines_.emplace(path, line_);
      return true;
    }
    value_starts();
    return true;
  }

  std::string current_path() const {
    if (frames_.empty()) return "";
    const Frame& f = frames_.back();
    return f.is_object ? join_path(f.path, f.key) : index_path(f.path, f.index);
  }

  void value_starts() {
    if (frames_.empty()) {
      lines_.emplace("", line_);
      return;
    }
    Frame& f = frames_.back();
    if (!f.value_pending) return;
    f.value_pending = false;
    lines_.emplace(current_path(), line_);
  }

  const std::string& text_;
  std::unordered_map<std::string, int>& lines_;
  std::vector<Frame> frames_;
  int line_ = 1;
};

int line_at_byte(const std::string& text, size_t byte) {
  int line = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i)
    if (text[i] == '\n') ++line;
  return line;
}

std::string strip_exception_prefix(const std::string& what) {
  // nlohmann messages start with "[json.exception.parse_error.101] ".
  size_t close = what.find("] ");
  return what.rfind("[json.exception", 0) == 0 && close != std::string::npos ? what.substr(close + 2)
                                                                            : what;
}

}  // namespace

Result<JsonDocument> parse_json_text(const std::string& text, const std::string& display_name) {
  Diagnostics errors;
  JsonDocument doc;
  doc.file = display_name;
  if (text.size() > kMaxJsonBytes) {
    errors.add({display_name, 0, "", "file is " + std::to_string(text.size()) + " bytes, more than the " +
                                         std::to_string(kMaxJsonBytes) + "-byte limit",
                "stepsim input files are small JSON documents; check the path"});
    return errors;
  }
  Diagnostic scan_error{display_name, 0, "", "", ""};
  if (!LineScanner(text, doc.lines).run(scan_error)) {
    errors.add(scan_error);
    return errors;
  }
  try {
    doc.root = Json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const Json::parse_error& e) {
    errors.add({display_name, line_at_byte(text, e.byte), "",
                "not valid JSON: " + strip_exception_prefix(e.what()),
                "stepsim files are JSON with optional // comments"});
    return errors;
  } catch (const Json::exception& e) {
    errors.add({display_name, 0, "", "not valid JSON: " + strip_exception_prefix(e.what()),
                "numbers must be finite and fit in a double"});
    return errors;
  }
  return doc;
}

Result<JsonDocument> load_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Diagnostics errors;
    errors.add({path, 0, "", "cannot open the file", "check the path (relative paths are relative to the current directory)"});
    return errors;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_json_text(buffer.str(), path);
}

}  // namespace stepsim
