#include "report/timeline_svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

namespace stepsim {

namespace {

constexpr double kWidth = 1200, kLeft = 170, kRight = 20, kPlot = kWidth - kLeft - kRight;
constexpr double kTop = 52, kLane = 10, kLaneGap = 2, kRankGap = 8;

struct Kind {
  const char* css;
  const char* label;
  const char* colour;
};
// Colours of the bars (Tableau 10); the lane background is the idle colour.
constexpr Kind kKinds[] = {{"fwd", "forward", "#4e79a7"}, {"bwd", "backward", "#f28e2b"},
                           {"rec", "recompute", "#76b7b2"}, {"opt", "optimizer", "#59a14f"},
                           {"tp", "TP comm", "#e15759"},    {"dp", "DP / ZeRO comm", "#b07aa1"},
                           {"pp", "PP send/recv", "#edc948"}, {"cp", "CP comm", "#9c755f"},
                           {"ep", "EP comm", "#ff9da7"},    {"idle", "idle", "#ececec"}};

int kind_of(const Op& op, Stream stream) {
  if (stream != Stream::compute) return 3 + static_cast<int>(stream);  // tp dp pp cp ep follow the phases
  return static_cast<int>(op.phase);
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

constexpr int kBusyKinds = 9;  // every kind but idle
constexpr int kPixels = static_cast<int>(kPlot);

struct Bar {
  double x0, x1;
  int kind, level;  // level: busy quarters of the pixels it covers (1..4)
};

// Outline pieces of the critical path less than three pixels apart merge into one (a path that
// alternates between compute and short collectives would otherwise draw a comb).
void add_outline(std::vector<Bar>& bars, double x0, double x1) {
  if (!bars.empty() && x0 - bars.back().x1 < 3) {
    bars.back().x1 = std::max(bars.back().x1, x1);
    return;
  }
  bars.push_back({x0, x1, 0, 4});
}

// One lane's busy time per pixel and kind. Drawn as runs of pixels with the same dominant kind
// and busy quarter, so the picture's size is bounded by its width, not by the op count, and a
// stream busy half the time looks half-filled rather than solid.
struct Lane {
  int rank = 0;
  Stream stream = Stream::compute;
  std::vector<std::array<double, kBusyKinds>> busy = std::vector<std::array<double, kBusyKinds>>(kPixels);
  std::vector<Bar> critical;

  void add(double x0, double x1, int kind) {
    for (int p = std::max(0, static_cast<int>(x0)); p < kPixels && p < x1; ++p)
      busy[static_cast<size_t>(p)][static_cast<size_t>(kind)] += std::min<double>(x1, p + 1) - std::max<double>(x0, p);
  }

  std::vector<Bar> bars() const {
    std::vector<Bar> out;
    for (int p = 0; p < kPixels; ++p) {
      const auto& b = busy[static_cast<size_t>(p)];
      const int kind = static_cast<int>(std::max_element(b.begin(), b.end()) - b.begin());
      double total = 0;
      for (double v : b) total += v;
      const int level = static_cast<int>(std::lround(std::min(total, 1.0) * 4));
      if (level == 0) continue;
      if (!out.empty() && out.back().kind == kind && out.back().level == level && out.back().x1 == p) out.back().x1 = p + 1;
      else out.push_back({static_cast<double>(p), static_cast<double>(p + 1), kind, level});
    }
    return out;
  }
};

struct TimeUnit {
  double scale;
  const char* name;
};

TimeUnit unit_for(double seconds) {
  if (seconds >= 1) return {1, "s"};
  if (seconds >= 1e-3) return {1e3, "ms"};
  return {1e6, "µs"};
}

// 1, 2 or 5 times a power of ten, giving about six ticks over the step.
double tick_step(double span) {
  const double raw = span / 6;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * magnitude >= raw) return m * magnitude;
  return 10 * magnitude;
}

class TimelineBuilder {
 public:
  explicit TimelineBuilder(const TimelineInputs& in) : in_(in) {
    step_ = in.result.step_time > 0 ? in.result.step_time : 1;
    ranks_ = in.ranks;
    if (ranks_.empty()) {
      ranks_ = in.result.recorded_ranks;
      std::sort(ranks_.begin(), ranks_.end());
      if (ranks_.size() > kTimelineDefaultRanks) ranks_.resize(kTimelineDefaultRanks);
    }
    if (ranks_.size() > kTimelineMaxRanks) ranks_.resize(kTimelineMaxRanks);
  }

  std::string build() {
    collect_lanes();
    const double axis_y = kTop + lanes_height();
    std::string body;
    draw_lanes(body);
    draw_axis(body, axis_y);
    const double legend_y = axis_y + 36;
    draw_legend(body, legend_y);
    const double height = legend_y + 24;
    std::string svg = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" "
        "font-family=\"sans-serif\" font-size=\"11\">\n",
        kWidth, height);
    svg += "<style>";
    for (const Kind& k : kKinds) svg += fmt::format(".{}{{fill:{}}}", k.css, k.colour);
    svg += ".q1{fill-opacity:.3}.q2{fill-opacity:.55}.q3{fill-opacity:.8}.crit{fill:none;stroke:#000;stroke-width:1.2}</style>\n";
    svg += fmt::format("<rect width=\"{:.0f}\" height=\"{:.0f}\" fill=\"#fff\"/>\n", kWidth, height);
    const TimeUnit u = unit_for(step_);
    svg += fmt::format("<text x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                       escape(in_.scenario.name));
    svg += fmt::format("<text x=\"8\" y=\"36\">one training step: {:.3f} {} · {} of {} rank(s) shown · critical path "
                       "outlined</text>\n",
                       in_.result.step_time * u.scale, u.name, ranks_.size(), in_.workload.layout.world_size());
    return svg + body + "</svg>\n";
  }

 private:
  double px(double t) const { return std::clamp(t / step_, 0.0, 1.0) * kPlot; }

  const Op& op_of(int rank, uint32_t op) const {
    return in_.workload.stages[static_cast<size_t>(in_.workload.layout.coordinates(rank).pp)].ops[op];
  }

  void collect_lanes() {
    const std::set<int> shown(ranks_.begin(), ranks_.end());
    std::map<std::pair<int, int>, std::vector<const ActivityRecord*>> by_lane;
    for (const ActivityRecord& r : in_.result.records)
      if (shown.count(r.rank)) by_lane[{r.rank, static_cast<int>(r.stream)}].push_back(&r);
    std::map<std::pair<int, int>, std::vector<const CriticalStep*>> critical;
    for (const CriticalStep& s : in_.critical_path.steps)
      if (shown.count(s.rank)) critical[{s.rank, static_cast<int>(s.stream)}].push_back(&s);
    for (auto& [key, records] : by_lane) {
      std::sort(records.begin(), records.end(), [](auto* a, auto* b) { return std::tie(a->start, a->op) < std::tie(b->start, b->op); });
      Lane lane;
      lane.rank = key.first;
      lane.stream = static_cast<Stream>(key.second);
      for (const ActivityRecord* r : records) lane.add(px(r->start), px(r->end), kind_of(op_of(r->rank, r->op), r->stream));
      auto it = critical.find(key);
      if (it != critical.end())
        for (const CriticalStep* s : it->second) add_outline(lane.critical, px(s->start), px(s->end));
      lanes_.push_back(std::move(lane));
    }
  }

  double lanes_height() const {
    double h = 0;
    for (size_t i = 0; i < lanes_.size(); ++i)
      h += kLane + kLaneGap + (i > 0 && lanes_[i].rank != lanes_[i - 1].rank ? kRankGap : 0);
    return h;
  }

  void draw_lanes(std::string& out) const {
    double y = kTop;
    const int per_node = in_.scenario.gpus_per_node();
    for (size_t i = 0; i < lanes_.size(); ++i) {
      const Lane& lane = lanes_[i];
      const bool first_of_rank = i == 0 || lanes_[i - 1].rank != lane.rank;
      if (first_of_rank && i > 0) y += kRankGap;
      if (first_of_rank)
        out += fmt::format("<text x=\"8\" y=\"{:.1f}\" font-weight=\"bold\">rank {} · n{} g{}</text>\n", y + kLane - 1,
                           lane.rank, lane.rank / per_node, lane.rank % per_node);
      out += fmt::format("<g class=\"lane\" data-rank=\"{}\" data-stream=\"{}\" transform=\"translate({:.0f},{:.1f})\">\n",
                         lane.rank, to_string(lane.stream), kLeft, y);
      out += fmt::format("<text x=\"-4\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"9\">{}</text>\n", kLane - 1.5,
                         to_string(lane.stream));
      out += fmt::format("<rect class=\"idle\" width=\"{:.1f}\" height=\"{:.0f}\"/>\n", kPlot, kLane);
      for (const Bar& b : lane.bars())
        out += fmt::format("<rect class=\"{}{}\" x=\"{:.0f}\" width=\"{:.0f}\" height=\"{:.0f}\"/>\n",
                           kKinds[b.kind].css, b.level < 4 ? fmt::format(" q{}", b.level) : "", b.x0, b.x1 - b.x0, kLane);
      for (const Bar& b : lane.critical)
        out += fmt::format("<rect class=\"crit\" x=\"{:.1f}\" y=\"0.5\" width=\"{:.1f}\" height=\"{:.0f}\"/>\n", b.x0,
                           std::max(b.x1 - b.x0, 0.3), kLane - 1);
      out += "</g>\n";
      y += kLane + kLaneGap;
    }
  }

  void draw_axis(std::string& out, double y) const {
    const TimeUnit u = unit_for(step_);
    const double span = step_ * u.scale, tick = tick_step(span);
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(tick))));
    out += fmt::format("<g class=\"axis\" transform=\"translate({:.0f},{:.1f})\">\n", kLeft, y + 4);
    out += fmt::format("<line x1=\"0\" x2=\"{:.1f}\" stroke=\"#333\"/>\n", kPlot);
    for (int k = 0; k * tick <= span * (1 + 1e-9); ++k) {
      const double x = k * tick / span * kPlot;
      out += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y2=\"4\" stroke=\"#333\"/>", x);
      out += fmt::format("<text x=\"{:.1f}\" y=\"15\" text-anchor=\"middle\">{:.{}f}</text>\n", x, k * tick, decimals);
    }
    out += fmt::format("<text x=\"{:.1f}\" y=\"29\" text-anchor=\"middle\">time since the step started ({})</text>\n",
                       kPlot / 2, u.name);
    out += "</g>\n";
  }

  void draw_legend(std::string& out, double y) const {
    out += fmt::format("<g class=\"legend\" transform=\"translate(8,{:.1f})\">\n", y);
    double x = 0;
    for (const Kind& k : kKinds) {
      out += fmt::format("<rect class=\"{}\" x=\"{:.0f}\" width=\"12\" height=\"10\"/>", k.css, x);
      out += fmt::format("<text x=\"{:.0f}\" y=\"9\">{}</text>\n", x + 16, k.label);
      x += 22 + 6.2 * static_cast<double>(std::string(k.label).size());
    }
    out += fmt::format("<rect class=\"crit\" x=\"{:.0f}\" y=\"0.5\" width=\"12\" height=\"9\"/>", x);
    out += fmt::format("<text x=\"{:.0f}\" y=\"9\">critical path</text>\n", x + 16);
    out += "</g>\n";
  }

  const TimelineInputs& in_;
  double step_ = 1;
  std::vector<int> ranks_;
  std::vector<Lane> lanes_;
};

}  // namespace

std::string timeline_svg(const TimelineInputs& in) { return TimelineBuilder(in).build(); }

}  // namespace stepsim
