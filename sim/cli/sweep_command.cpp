// `stepsim sweep SPEC.json`: every point of a sweep spec (docs/formats/sweep.md) runs as its own
// `stepsim run … --json` process (SimGrid allows one engine per process), -j at a time; each
// finished point is appended to DIR/results.jsonl and DIR/results.csv at once, so a kill loses
// no finished point and a re-run resumes. `stepsim sweep merge` joins shard folders.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unordered_map>

#include "cli/child_runs.h"
#include "cli/commands.h"
#include "cli/sweep_results.h"
#include "report/comparison.h"
#include "scenario/sweep_spec.h"

namespace stepsim {

namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// At most this many points get the summary table on stdout (the files hold every point).
constexpr size_t kSummaryTableLimit = 200;

struct Shard {
  size_t index = 0, count = 1;  // 0-based index of `count`
  bool holds(const SweepPoint& p) const { return p.index % count == index; }
};

Result<Shard> parse_shard(const std::string& text) {
  Shard s;
  if (text.empty()) return s;
  size_t i = 0, n = 0;
  char slash = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%zu%c%zu%c", &i, &slash, &n, &extra) != 3 || slash != '/' || i < 1 || n < 1 || i > n ||
      n > kMaxSweepPoints) {
    Diagnostics d;
    d.add({"", 0, "", "--shard expects I/N with 1 ≤ I ≤ N, got \"" + text + "\"",
           "e.g. --shard 2/4 runs the second quarter (Slurm --array=1-N: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)"});
    return d;
  }
  s.index = i - 1;
  s.count = n;
  return s;
}

OJson point_record(const SweepPoint& p) {
  OJson axes = OJson::object(), set = OJson::object();
  for (const auto& [axis, label] : p.axes) axes[axis] = label;
  for (const auto& o : p.overrides) set[o.path] = OJson::parse(o.value);
  return {{"id", p.id}, {"index", p.index}, {"status", ""}, {"axes", axes}, {"set", set}};
}

std::vector<std::string> child_args(const SweepSpec& spec, const SweepPoint& p) {
  std::vector<std::string> args{"run", spec.base_path, "--json"};
  for (const auto& o : p.overrides) {
    args.push_back("--set");
    args.push_back(o.path + "=" + o.value);
  }
  // The report's "scenario" names the point, not the base (not part of the id: it is derived).
  std::string name = spec.name.empty() ? "sweep" : spec.name;
  for (const auto& [axis, label] : p.axes) name += " · " + label;
  args.push_back("--set");
  args.push_back("name=" + OJson(name).dump());
  if (spec.simulate == SimulateMode::none) args.push_back("--no-engine");
  if (spec.simulate == SimulateMode::fits) args.push_back("--skip-engine-on-oom");
  return args;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Turns a finished child into the point's record: ok, skipped (out of memory in "fits" mode,
// invalid configuration with "invalid": "skip") or failed with the error text.
OJson classify(const SweepSpec& spec, const SweepPoint& p, const ChildResult& r) {
  OJson rec = point_record(p);
  if (r.exit_code == kExitOk) {
    OJson report = OJson::parse(r.out, nullptr, false);
    if (report.is_discarded() || !report.is_object()) {
      rec["status"] = "failed";
      rec["error"] = "the child's report is not JSON: " + trimmed(r.out.substr(0, 300));
      return rec;
    }
    const nlohmann::json plain(report);
    const bool simulated = report.contains("step_time_s");
    const std::string verdict = memory_verdict(plain);
    if (!simulated && spec.simulate == SimulateMode::fits && verdict.rfind("OUT OF MEMORY", 0) == 0) {
      rec["status"] = "skipped";
      rec["reason"] = "not simulated: " + verdict;
    } else {
      rec["status"] = "ok";
    }
    rec["report"] = std::move(report);
    return rec;
  }
  if (r.exit_code == kExitBadInput && spec.invalid_is_skip) {
    rec["status"] = "skipped";
    rec["reason"] = "invalid configuration: " + trimmed(r.err);
    return rec;
  }
  rec["status"] = "failed";
  rec["error"] = failure_text(r);
  return rec;
}

std::string axes_text(const SweepPoint& p) {
  std::string s;
  for (const auto& [axis, label] : p.axes) s += (s.empty() ? "" : " ") + axis + "=" + label;
  return s;
}

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

// Progress on stderr: a redrawn bar with count, rate and ETA on a terminal, one line per point otherwise.
class Progress {
 public:
  Progress(size_t total, size_t already) : total_(total), done_(already), start_(Clock::now()), tty_(isatty(2)) {}

  void finished(const SweepPoint& p, const OJson& rec, double wall_s, bool ran) {
    ++done_;
    if (ran) ++ran_;
    const std::string status = rec["status"].get<std::string>();
    ++counts_[status];
    if (tty_) {
      if (status == "failed") std::cerr << "\r\033[K" << fmt::format("failed  {}  {}\n", p.id, axes_text(p));
      draw();
      return;
    }
    std::string line = fmt::format("sweep [{}/{}] {:<7} {}  {}", done_, total_, status, p.id, axes_text(p));
    if (ran) line += fmt::format("  ({:.2f} s)", wall_s);
    if (rec.contains("reason")) line += "\n    " + first_line(rec["reason"].get<std::string>());
    if (rec.contains("error")) line += "\n    " + first_line(rec["error"].get<std::string>());
    std::cerr << line << "\n";
  }

  void tick() {
    if (tty_) draw();
  }

  void end() {
    if (tty_) std::cerr << "\n";
  }

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

  void draw() {
    constexpr size_t width = 30;
    const size_t filled = total_ ? done_ * width / total_ : width;
    const double rate = ran_ / std::max(elapsed(), 1e-9);
    const std::string eta = ran_ && done_ < total_ ? clock_text((total_ - done_) / rate) : "–";
    std::cerr << "\r\033[K"
              << fmt::format("[{}{}] {}/{}  ok {} · skipped {} · failed {}  {:.2f} points/s  ETA {}",
                             std::string(filled, '#'), std::string(width - filled, '.'), done_, total_, counts_["ok"],
                             counts_["skipped"], counts_["failed"], rate, eta)
              << std::flush;
  }

  size_t total_, done_, ran_ = 0;
  std::map<std::string, size_t> counts_;
  Clock::time_point start_;
  bool tty_;
};

std::string default_out_dir(const SweepSpec& spec) {
  std::string stem = fs::path(spec.file).stem().string();
  return "sweep-" + (stem.empty() ? std::string("results") : stem);
}

// Checks that DIR holds results of this sweep (or nothing) and writes the manifest.
Diagnostics prepare_out_dir(const std::string& dir, const SweepManifest& m) {
  Diagnostics d;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    d.add({dir, 0, "", "cannot create the output folder: " + ec.message(), "give a writable --out DIR"});
    return d;
  }
  if (fs::exists(dir + "/sweep.json")) {
    auto old = read_manifest(dir);
    if (!old.ok()) return old.errors();
    if (old.value().base != m.base || old.value().axes != m.axes) {
      d.add({dir, 0, "", fmt::format("the folder holds results of another sweep (\"{}\" over {})", old.value().name, old.value().base),
             "give another --out DIR, or delete that folder to start over"});
      return d;
    }
  }
  return write_manifest(dir, m);
}

// Records of the current spec only: same id at the same index (a changed spec reruns the rest).
std::vector<RecordRef> current_records(const std::string& jsonl, const std::vector<SweepPoint>& points, size_t* torn) {
  std::unordered_map<std::string, size_t> index_of;
  for (const auto& p : points) index_of[p.id] = p.index;
  std::vector<RecordRef> kept;
  for (auto& r : scan_records({jsonl}, torn)) {
    auto it = index_of.find(r.id);
    if (it != index_of.end() && it->second == r.index) kept.push_back(std::move(r));
  }
  return kept;
}

std::vector<ComparedRun> runs_of(const std::string& jsonl, const std::vector<RecordRef>& refs) {
  std::vector<ComparedRun> runs;
  std::ifstream in(jsonl, std::ios::binary);
  std::string line;
  for (const auto& r : refs) {
    line.assign(static_cast<size_t>(r.length), '\0');
    in.clear();
    in.seekg(r.offset);
    in.read(line.data(), r.length);
    runs.push_back(compared_run_of_record(OJson::parse(line)));
  }
  return runs;
}

int dry_run(const SweepSpec& spec, const std::vector<SweepPoint>& points, const Shard& shard) {
  size_t n = 0, skipped = 0;
  for (const auto& p : points) {
    if (!shard.holds(p)) continue;
    ++n;
    if (p.skip_reason) ++skipped;
    std::cout << fmt::format("{:>5} {}  {}{}\n", p.index, p.id, axes_text(p), p.skip_reason ? "  [skip: " + *p.skip_reason + "]" : "");
  }
  std::cout << fmt::format("{} point(s), {} skipped by rules; base {}\n", n, skipped, spec.base);
  return kExitOk;
}

}  // namespace

int sweep_command(const SweepOptions& o) {
  if (o.spec.empty()) {
    std::cerr << "error: sweep needs a spec file\n    fix: stepsim sweep SPEC.json (format: docs/formats/sweep.md), "
                 "or stepsim sweep merge DIR... --out DIR\n";
    return kExitBadInput;
  }
  auto loaded = load_sweep_spec(o.spec);
  auto shard = parse_shard(o.shard);
  if (!loaded.ok() || !shard.ok()) {
    std::cerr << (loaded.ok() ? shard.errors() : loaded.errors()).to_string();
    return kExitBadInput;
  }
  const SweepSpec& spec = loaded.value();
  const std::vector<SweepPoint> points = enumerate_sweep(spec);
  if (o.dry_run) return dry_run(spec, points, shard.value());

  const std::string dir = o.out.empty() ? default_out_dir(spec) : o.out;
  const std::string jsonl = dir + "/results.jsonl";
  const SweepManifest manifest{spec.name.empty() ? fs::path(spec.file).stem().string() : spec.name, spec.base,
                               spec.axis_names(), points.size()};
  Diagnostics prepared = prepare_out_dir(dir, manifest);
  if (!prepared.ok()) {
    std::cerr << prepared.to_string();
    return kExitBadInput;
  }

  // Resume: keep the finished records of this spec, rebuilt into clean files.
  const bool cut = cut_torn_tail(jsonl);
  size_t torn = 0;
  std::vector<RecordRef> previous = current_records(jsonl, points, &torn);
  torn += cut ? 1 : 0;
  Diagnostics rewritten = rewrite_results(dir, {jsonl}, previous, manifest.axes);
  if (!rewritten.ok()) {
    std::cerr << rewritten.to_string();
    return kExitBadInput;
  }
  std::unordered_map<std::string, bool> finished;
  for (const auto& r : previous) finished[r.id] = r.status == "ok" || r.status == "skipped";

  std::vector<const SweepPoint*> todo;
  size_t in_shard = 0;
  for (const auto& p : points) {
    if (!shard.value().holds(p)) continue;
    ++in_shard;
    auto it = finished.find(p.id);
    if (it == finished.end() || !it->second) todo.push_back(&p);
  }
  if (in_shard > todo.size() || torn)
    std::cerr << fmt::format("sweep: resuming in {}: {} of {} point(s) already finished{}\n", dir, in_shard - todo.size(),
                             in_shard, torn ? fmt::format(", {} torn line(s) dropped", torn) : "");

  Progress progress(in_shard, in_shard - todo.size());
  {
    ResultsAppender out(dir, manifest.axes);
    if (!out.ok()) {
      std::cerr << fmt::format("error: {}: cannot open the result files for appending\n", dir);
      return kExitBadInput;
    }
    std::vector<const SweepPoint*> to_run;
    for (const SweepPoint* p : todo) {
      if (!p->skip_reason) {
        to_run.push_back(p);
        continue;
      }
      OJson rec = point_record(*p);
      rec["status"] = "skipped";
      rec["reason"] = *p->skip_reason;
      out.append(rec);
      progress.finished(*p, rec, 0, false);
    }
    size_t next = 0;
    run_children(
        o.jobs > 0 ? o.jobs : default_jobs(),
        [&]() -> std::optional<ChildJob> {
          if (next == to_run.size()) return std::nullopt;
          const SweepPoint& p = *to_run[next];
          return ChildJob{next++, child_args(spec, p), o.timeout_s};
        },
        [&](ChildResult r) {
          const SweepPoint& p = *to_run[r.key];
          OJson rec = classify(spec, p, r);
          out.append(rec);
          progress.finished(p, rec, r.wall_s, true);
        },
        [&]() { progress.tick(); });
  }
  progress.end();

  // Final form: one record per point, sorted by index (deterministic bytes).
  std::vector<RecordRef> all = current_records(jsonl, points, nullptr);
  Diagnostics final_write = rewrite_results(dir, {jsonl}, all, manifest.axes);
  if (!final_write.ok()) {
    std::cerr << final_write.to_string();
    return kExitBadInput;
  }
  all = current_records(jsonl, points, nullptr);  // offsets in the rewritten file
  std::map<std::string, size_t> counts;
  for (const auto& r : all) ++counts[r.status];
  if (all.size() <= kSummaryTableLimit) std::cout << comparison_text(runs_of(jsonl, all), 0);
  else std::cout << fmt::format("({} points: see the files, or `stepsim compare {}`)\n", all.size(), jsonl);
  std::cout << fmt::format("{} point(s): {} ok, {} skipped, {} failed → {}/results.csv, results.jsonl\n", all.size(),
                           counts["ok"], counts["skipped"], counts["failed"], dir);
  std::cerr << fmt::format("sweep: {:.1f} s\n", progress.elapsed());  // stdout stays the same bytes for the same results
  return counts["failed"] ? kExitPointsFailed : kExitOk;
}

int sweep_merge_command(const SweepMergeOptions& o) {
  if (o.dirs.empty() || o.out.empty()) {
    std::cerr << "error: sweep merge needs result folders and --out DIR\n    fix: stepsim sweep merge shard-1 shard-2 --out all\n";
    return kExitBadInput;
  }
  std::vector<std::string> sources;
  SweepManifest manifest;
  for (size_t i = 0; i < o.dirs.size(); ++i) {
    auto m = read_manifest(o.dirs[i]);
    if (!m.ok()) {
      std::cerr << m.errors().to_string();
      return kExitBadInput;
    }
    if (i == 0) manifest = m.value();
    else if (m.value().base != manifest.base || m.value().axes != manifest.axes || m.value().points != manifest.points) {
      std::cerr << fmt::format("error: {}: results of another sweep (\"{}\" over {}, {} points) than {} (\"{}\" over {}, {} points)\n"
                               "    fix: merge shards of one sweep spec\n",
                               o.dirs[i], m.value().name, m.value().base, m.value().points, o.dirs[0], manifest.name,
                               manifest.base, manifest.points);
      return kExitBadInput;
    }
    sources.push_back(o.dirs[i] + "/results.jsonl");
  }
  std::error_code ec;
  fs::create_directories(o.out, ec);
  size_t torn = 0;
  std::vector<RecordRef> records = scan_records(sources, &torn);
  Diagnostics d = write_manifest(o.out, manifest);
  if (d.ok()) d = rewrite_results(o.out, sources, records, manifest.axes);
  if (!d.ok()) {
    std::cerr << d.to_string();
    return kExitBadInput;
  }
  std::map<std::string, size_t> counts;
  for (const auto& r : records) ++counts[r.status];
  const size_t missing = manifest.points > records.size() ? manifest.points - records.size() : 0;
  std::cout << fmt::format("merged {} folder(s) into {}: {} point(s), {} ok, {} skipped, {} failed{}{}\n", o.dirs.size(), o.out,
                           records.size(), counts["ok"], counts["skipped"], counts["failed"],
                           missing ? fmt::format(", {} of {} missing", missing, manifest.points) : "",
                           torn ? fmt::format(" ({} torn line(s) dropped)", torn) : "");
  return counts["failed"] || missing ? kExitPointsFailed : kExitOk;
}

}  // namespace stepsim
