#include "report/trace_json.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace stepsim {

int64_t to_ns(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0) return 0;
  return std::llround(seconds * 1e9);
}

std::string format_us(int64_t ns) { return fmt::format("{}.{:03d}", ns / 1000, static_cast<int>(ns % 1000)); }

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<int>(c));
        else out += c;
    }
  }
  return out + "\"";
}

void JsonObject::key(const std::string& k) {
  if (!body_.empty()) body_ += ",";
  body_ += json_quote(k) + ":";
}

void JsonObject::add(const std::string& k, int64_t value) {
  key(k);
  body_ += std::to_string(value);
}

void JsonObject::add_string(const std::string& k, const std::string& value) {
  key(k);
  body_ += json_quote(value);
}

void JsonObject::add_fixed(const std::string& k, double value, int decimals) {
  key(k);
  if (!std::isfinite(value)) value = 0;
  std::string text = fmt::format("{:.{}f}", value, decimals);
  if (text.find_first_not_of("-0.") == std::string::npos) text = fmt::format("{:.{}f}", 0.0, decimals);  // no "-0.000"
  body_ += text;
}

void JsonObject::add_raw(const std::string& k, const std::string& json) {
  key(k);
  body_ += json;
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

FileSink::FileSink(const std::string& path) {
  if (ends_with(path, ".gz")) {
    gzFile gz = gzopen(path.c_str(), "wb6");
    if (gz) gzbuffer(gz, 1 << 17);
    gz_ = gz;
  } else {
    file_ = std::fopen(path.c_str(), "wb");
  }
  if (!gz_ && !file_) {
    failed_ = true;
    error_ = std::strerror(errno ? errno : ENOENT);
  }
}

FileSink::~FileSink() { close(); }

void FileSink::write(const std::string& text) {
  if (failed_ || text.empty()) return;
  if (gz_) failed_ = gzwrite(static_cast<gzFile>(gz_), text.data(), static_cast<unsigned>(text.size())) <= 0;
  else failed_ = std::fwrite(text.data(), 1, text.size(), file_) != text.size();
  if (failed_ && error_.empty()) error_ = std::strerror(errno ? errno : EIO);
}

std::string FileSink::close() {
  if (gz_ && gzclose(static_cast<gzFile>(gz_)) != Z_OK && !failed_) {
    failed_ = true;
    error_ = "gzip close failed";
  }
  if (file_ && std::fclose(file_) != 0 && !failed_) {
    failed_ = true;
    error_ = std::strerror(errno);
  }
  gz_ = nullptr;
  file_ = nullptr;
  return failed_ ? (error_.empty() ? "write failed" : error_) : "";
}

void TraceWriter::process(int pid, const std::string& name, int sort_index) {
  metadata_[{pid, 0, "process_name"}] =
      fmt::format("{{\"ph\":\"M\",\"pid\":{},\"name\":\"process_name\",\"args\":{{\"name\":{}}}}}", pid, json_quote(name));
  metadata_[{pid, 0, "process_sort_index"}] = fmt::format(
      "{{\"ph\":\"M\",\"pid\":{},\"name\":\"process_sort_index\",\"args\":{{\"sort_index\":{}}}}}", pid, sort_index);
}

void TraceWriter::thread(int pid, int tid, const std::string& name, int sort_index) {
  metadata_[{pid, tid, "thread_name"}] = fmt::format(
      "{{\"ph\":\"M\",\"pid\":{},\"tid\":{},\"name\":\"thread_name\",\"args\":{{\"name\":{}}}}}", pid, tid, json_quote(name));
  metadata_[{pid, tid, "thread_sort_index"}] = fmt::format(
      "{{\"ph\":\"M\",\"pid\":{},\"tid\":{},\"name\":\"thread_sort_index\",\"args\":{{\"sort_index\":{}}}}}", pid, tid,
      sort_index);
}

void TraceWriter::line(const std::string& event) {
  sink_.write(first_ ? event : ",\n" + event);
  first_ = false;
}

void TraceWriter::begin_events() {
  sink_.write("{\"traceEvents\":[\n");
  for (const auto& [key, event] : metadata_) line(event);
}

void TraceWriter::slice(int pid, int tid, int64_t ts, int64_t dur, const std::string& name, const std::string& cat,
                        const std::string& args, FlowBinding flow) {
  slices_.push_back({pid, tid, ts, std::max<int64_t>(0, dur), name, cat, args, flow});
}

void TraceWriter::flush_slices() {
  std::stable_sort(slices_.begin(), slices_.end(), [](const Slice& x, const Slice& y) {
    return std::make_tuple(x.pid, x.tid, x.ts, -x.dur) < std::make_tuple(y.pid, y.tid, y.ts, -y.dur);
  });
  std::string chunk;
  for (const Slice& s : slices_) {
    std::string flow;
    if (s.flow.id) {
      flow = fmt::format(",\"bind_id\":{}", s.flow.id);
      if (s.flow.in) flow += ",\"flow_in\":true";
      if (s.flow.out) flow += ",\"flow_out\":true";
    }
    chunk += first_ ? "" : ",\n";
    first_ = false;
    chunk += fmt::format("{{\"ph\":\"X\",\"pid\":{},\"tid\":{},\"ts\":{},\"dur\":{},\"name\":{},\"cat\":{},\"args\":{}{}}}",
                         s.pid, s.tid, format_us(s.ts), format_us(s.dur), json_quote(s.name), json_quote(s.cat), s.args,
                         flow);
    if (chunk.size() > (1 << 20)) {
      sink_.write(chunk);
      chunk.clear();
    }
  }
  sink_.write(chunk);
  slice_count_ += static_cast<int64_t>(slices_.size());
  slices_.clear();
}

void TraceWriter::async(int pid, int tid, int64_t ts, int64_t dur, const std::string& name, const std::string& cat,
                        const std::string& args) {
  const int64_t id = ++async_count_;
  const std::string common = fmt::format("\"pid\":{},\"tid\":{},\"name\":{},\"cat\":{},\"id2\":{{\"local\":\"0x{:x}\"}}",
                                         pid, tid, json_quote(name), json_quote(cat), id);
  line(fmt::format("{{\"ph\":\"b\",\"ts\":{},{},\"args\":{}}}", format_us(ts), common, args));
  line(fmt::format("{{\"ph\":\"e\",\"ts\":{},{}}}", format_us(ts + std::max<int64_t>(0, dur)), common));
}

void TraceWriter::counter(int pid, int64_t ts, const std::string& name, const std::string& args) {
  ++counter_count_;
  line(fmt::format("{{\"ph\":\"C\",\"pid\":{},\"ts\":{},\"name\":{},\"args\":{}}}", pid, format_us(ts), json_quote(name),
                   args));
}

std::string TraceWriter::counts_json(int64_t flows) const {
  int64_t processes = 0, threads = 0;
  for (const auto& [key, event] : metadata_) {
    processes += std::get<2>(key) == "process_name";
    threads += std::get<2>(key) == "thread_name";
  }
  JsonObject c;
  c.add("slices", slice_count_);
  c.add("flows", flows);
  c.add("async", async_count_);
  c.add("counter_events", counter_count_);
  c.add("processes", processes);
  c.add("threads", threads);
  return c.str();
}

void TraceWriter::finish(const std::string& metadata) { sink_.write("\n],\n\"metadata\":" + metadata + "}\n"); }

}  // namespace stepsim
