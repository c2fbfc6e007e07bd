// Building blocks of the Perfetto trace writer (perfetto_trace.h): a JSON object with fixed
// number formatting, output sinks (a string, a file, a gzip file) and a streaming writer of the
// Chrome JSON event list. Times are integer nanoseconds written as µs with three decimals, so a
// slice ends exactly where the next one starts. Metadata is written first, sorted by (pid, tid,
// name); slices are buffered per batch (one rank) and written sorted by (pid, tid, ts, longest
// first); the rest is written in the order given. Equal inputs give equal bytes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace stepsim {

int64_t to_ns(double seconds);          // rounded to the nearest ns, never negative
std::string format_us(int64_t ns);      // "12.345": µs with exactly three decimals
std::string json_quote(const std::string& s);

class JsonObject {
 public:
  void add(const std::string& key, int64_t value);
  void add_string(const std::string& key, const std::string& value);
  void add_fixed(const std::string& key, double value, int decimals);  // non-finite values as 0
  void add_raw(const std::string& key, const std::string& json);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(const std::string& k);
  std::string body_;
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void write(const std::string& text) = 0;
};

class StringSink : public TraceSink {
 public:
  void write(const std::string& text) override { text_ += text; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// A file, gzip-compressed by zlib when the path ends in ".gz" (header without name or time).
class FileSink : public TraceSink {
 public:
  explicit FileSink(const std::string& path);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  void write(const std::string& text) override;
  // Flushes and closes; empty on success, else why it failed (the OS error).
  std::string close();

 private:
  void* gz_ = nullptr;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
  std::string error_;
};

// A v2 flow binding of a slice (bind_id): a slice takes part in at most one flow.
struct FlowBinding {
  int64_t id = 0;  // 0: none
  bool in = false, out = false;
};

class TraceWriter {
 public:
  explicit TraceWriter(TraceSink& sink) : sink_(sink) {}
  // Metadata, declared before begin_events().
  void process(int pid, const std::string& name, int sort_index);
  void thread(int pid, int tid, const std::string& name, int sort_index);
  void begin_events();  // writes the header and the sorted metadata
  void slice(int pid, int tid, int64_t ts, int64_t dur, const std::string& name, const std::string& cat,
             const std::string& args, FlowBinding flow = {});
  void flush_slices();  // writes the buffered slices, sorted
  // An async slice (a "b"/"e" pair with a process-local id): work that overlaps other work.
  void async(int pid, int tid, int64_t ts, int64_t dur, const std::string& name, const std::string& cat,
             const std::string& args);
  void counter(int pid, int64_t ts, const std::string& name, const std::string& args);
  std::string counts_json(int64_t flows) const;
  void finish(const std::string& metadata);  // closes the event list, then "metadata":<metadata>

 private:
  struct Slice {
    int pid, tid;
    int64_t ts, dur;
    std::string name, cat, args;
    FlowBinding flow;
  };
  void line(const std::string& event);
  TraceSink& sink_;
  std::map<std::tuple<int, int, std::string>, std::string> metadata_;  // (pid, tid, kind) → event
  std::vector<Slice> slices_;
  bool first_ = true;
  int64_t slice_count_ = 0, async_count_ = 0, counter_count_ = 0;
};

}  // namespace stepsim
