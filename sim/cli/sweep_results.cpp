#include "cli/sweep_results.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "report/report_csv.h"

namespace stepsim {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;

nlohmann::ordered_json SweepManifest::to_json() const {
  return {{"schema", "stepsim.sweep/1"}, {"name", name}, {"base", base}, {"axes", axes}, {"points", points}};
}

Result<SweepManifest> read_manifest(const std::string& dir) {
  const std::string path = dir + "/sweep.json";
  Diagnostics d;
  std::ifstream in(path);
  if (!in) {
    d.add({path, 0, "", "no sweep manifest", "give a folder written by `stepsim sweep --out`"});
    return d;
  }
  OJson j = OJson::parse(in, nullptr, /*allow_exceptions=*/false);
  SweepManifest m;
  if (j.is_discarded() || !j.is_object() || j.value("schema", "") != "stepsim.sweep/1" || !j["axes"].is_array() ||
      !j["name"].is_string() || !j["base"].is_string() || !j["points"].is_number_unsigned()) {
    d.add({path, 0, "", "not a stepsim.sweep/1 manifest", "give a folder written by `stepsim sweep --out`"});
    return d;
  }
  m.name = j["name"].get<std::string>();
  m.base = j["base"].get<std::string>();
  for (const auto& a : j["axes"])
    if (a.is_string()) m.axes.push_back(a.get<std::string>());
  m.points = j["points"].get<size_t>();
  return m;
}

namespace {

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Writes `text` to `path` through `path.tmp` and a rename, so readers see old or new, never half.
Diagnostics replace_file(const std::string& path, const std::string& text) {
  Diagnostics d;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      d.add({tmp, 0, "", std::string("cannot write: ") + std::strerror(errno), "check the --out folder"});
      return d;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) d.add({path, 0, "", "cannot replace: " + ec.message(), "check the --out folder"});
  return d;
}

}  // namespace

Diagnostics write_manifest(const std::string& dir, const SweepManifest& m) {
  return replace_file(dir + "/sweep.json", m.to_json().dump(2) + "\n");
}

std::vector<RecordRef> scan_records(const std::vector<std::string>& jsonl_files, size_t* torn) {
  std::map<std::string, RecordRef> by_id;
  size_t broken = 0;
  for (size_t f = 0; f < jsonl_files.size(); ++f) {
    std::ifstream in(jsonl_files[f], std::ios::binary);
    std::string line;
    long offset = 0;
    while (std::getline(in, line)) {
      const long start = offset;
      offset += static_cast<long>(line.size()) + 1;
      if (in.eof()) {  // no newline after it: a write cut short
        ++broken;
        break;
      }
      OJson j = OJson::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j["id"].is_string() || !j["index"].is_number_unsigned() ||
          !j["status"].is_string()) {
        ++broken;
        continue;
      }
      RecordRef r{j["index"].get<size_t>(), j["id"].get<std::string>(), j["status"].get<std::string>(), f, start,
                  static_cast<long>(line.size())};
      auto it = by_id.find(r.id);
      const bool keep_old = it != by_id.end() && it->second.status != "failed" && r.status == "failed";
      if (!keep_old) by_id[r.id] = r;
    }
  }
  std::vector<RecordRef> out;
  for (auto& [id, r] : by_id) out.push_back(std::move(r));
  std::sort(out.begin(), out.end(), [](const RecordRef& a, const RecordRef& b) {
    return a.index != b.index ? a.index < b.index : a.id < b.id;
  });
  if (torn) *torn = broken;
  return out;
}

bool cut_torn_tail(const std::string& jsonl_file) {
  std::error_code ec;
  const auto size = fs::file_size(jsonl_file, ec);
  if (ec || size == 0) return false;
  std::ifstream in(jsonl_file, std::ios::binary);
  // Find the last newline, reading backwards in blocks.
  long keep = 0;
  const long block = 65536;
  for (long end = static_cast<long>(size); end > 0 && keep == 0;) {
    const long start = std::max(0L, end - block);
    std::string buf(static_cast<size_t>(end - start), '\0');
    in.seekg(start);
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto pos = buf.find_last_of('\n');
    if (pos != std::string::npos) keep = start + static_cast<long>(pos) + 1;
    end = start;
  }
  if (keep == static_cast<long>(size)) return false;
  fs::resize_file(jsonl_file, static_cast<uintmax_t>(keep), ec);
  return true;
}

std::string results_csv_header(const std::vector<std::string>& axes) {
  std::string h = "id,index,status";
  for (const auto& a : axes) h += "," + csv_cell(a);
  return h + "," + csv_header() + ",reason\n";
}

std::string results_csv_row(const OJson& record, const std::vector<std::string>& axes) {
  std::string row = csv_cell(record.value("id", "")) + "," + std::to_string(record.value("index", size_t{0})) + "," +
                    csv_cell(record.value("status", ""));
  const OJson empty = OJson::object();
  const OJson& values = record.contains("axes") ? record["axes"] : empty;
  for (const auto& a : axes) {
    std::string cell;
    if (values.contains(a)) cell = values[a].is_string() ? values[a].get<std::string>() : values[a].dump();
    row += "," + csv_cell(cell);
  }
  const nlohmann::json report = record.contains("report") ? nlohmann::json(record["report"]) : nlohmann::json();
  row += "," + csv_row(report);
  std::string reason = record.value("reason", record.value("error", ""));
  return row + "," + csv_cell(reason) + "\n";
}

Diagnostics rewrite_results(const std::string& dir, const std::vector<std::string>& sources,
                            const std::vector<RecordRef>& records, const std::vector<std::string>& axes) {
  std::vector<std::ifstream> in;
  for (const auto& s : sources) in.emplace_back(s, std::ios::binary);
  const std::string jsonl = dir + "/results.jsonl", csv = dir + "/results.csv";
  std::ofstream out_jsonl(jsonl + ".tmp", std::ios::binary | std::ios::trunc);
  std::ofstream out_csv(csv + ".tmp", std::ios::binary | std::ios::trunc);
  out_csv << results_csv_header(axes);
  std::string line;
  for (const auto& r : records) {
    line.assign(static_cast<size_t>(r.length), '\0');
    in[r.file].clear();
    in[r.file].seekg(r.offset);
    in[r.file].read(line.data(), r.length);
    out_jsonl << line << '\n';
    out_csv << results_csv_row(OJson::parse(line), axes);
  }
  out_jsonl.flush();
  out_csv.flush();
  Diagnostics d;
  if (!out_jsonl || !out_csv) {
    d.add({dir, 0, "", std::string("cannot write the results: ") + std::strerror(errno), "check the --out folder"});
    return d;
  }
  out_jsonl.close();
  out_csv.close();
  std::error_code ec;
  fs::rename(jsonl + ".tmp", jsonl, ec);
  if (!ec) fs::rename(csv + ".tmp", csv, ec);
  if (ec) d.add({dir, 0, "", "cannot replace the results: " + ec.message(), "check the --out folder"});
  return d;
}

ComparedRun compared_run_of_record(const OJson& record) {
  ComparedRun run;
  if (record.contains("axes") && record["axes"].is_object())
    for (auto it = record["axes"].begin(); it != record["axes"].end(); ++it)
      run.axes.push_back({it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump()});
  if (record.contains("report")) run.report = nlohmann::json(record["report"]);
  std::string why = record.value("reason", record.value("error", ""));
  run.note = why.substr(0, why.find('\n'));
  // A report without a step time already says why in its memory verdict (the charts say "not simulated").
  if (run.report.is_object() && !run.report.contains("step_time_s")) run.note.clear();
  if (run.note.empty() && record.value("status", "") == "failed") run.note = "failed";
  return run;
}

ResultsAppender::ResultsAppender(const std::string& dir, std::vector<std::string> axes) : axes_(std::move(axes)) {
  const std::string csv = dir + "/results.csv";
  std::error_code ec;
  const bool csv_new = !fs::exists(csv, ec) || fs::file_size(csv, ec) == 0;
  jsonl_fd_ = open((dir + "/results.jsonl").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  csv_fd_ = open(csv.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (ok() && csv_new) write_all(csv_fd_, results_csv_header(axes_));
}

ResultsAppender::~ResultsAppender() {
  if (jsonl_fd_ >= 0) close(jsonl_fd_);
  if (csv_fd_ >= 0) close(csv_fd_);
}

void ResultsAppender::append(const OJson& record) {
  // The JSONL line first: it is the record of truth; the CSV is rebuilt from it on resume.
  write_all(jsonl_fd_, record.dump(-1, ' ', false, OJson::error_handler_t::replace) + "\n");
  write_all(csv_fd_, results_csv_row(record, axes_));
}

}  // namespace stepsim
