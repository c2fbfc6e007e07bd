#include "engine/link_usage.h"

#include <simgrid/plugins/load.h>
#include <simgrid/s4u.hpp>

#include <algorithm>

namespace sg4 = simgrid::s4u;

namespace stepsim {

void LinkSampler::enable_plugin() { sg_link_load_plugin_init(); }

std::string LinkSampler::readable_name(const std::string& name) {
  const size_t sep = name.find("--");
  auto ends_with = [&](const std::string& suffix) {
    return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (sep == std::string::npos) return name;
  if (ends_with("_UP")) return name.substr(0, sep) + "->" + name.substr(sep + 2, name.size() - sep - 5);
  if (ends_with("_DOWN")) return name.substr(sep + 2, name.size() - sep - 7) + "->" + name.substr(0, sep);
  return name;
}

void LinkSampler::start(sg4::Host* host, double expected_step) {
  // By name, so that the output never depends on SimGrid's internal order.
  std::vector<std::pair<std::string, sg4::Link*>> named;
  for (sg4::Link* l : sg4::Engine::get_instance()->get_all_links()) named.emplace_back(l->get_name(), l);
  std::sort(named.begin(), named.end());
  for (auto& [name, l] : named) {
    links_.push_back(l);
    sg_link_load_track(l);
  }
  const size_t per_step =
      std::clamp<size_t>(kMaxStoredValues / 2 / std::max<size_t>(links_.size(), 1), 8, kSamplesPerStep);
  max_samples_ = 2 * per_step;
  period_ = (expected_step > 0 ? expected_step : 1e-3) / static_cast<double>(per_step);
  times_.push_back(0);
  cumulative_.emplace_back(links_.size(), 0.0);
  sg4::Actor::create("link-sampler", host, [this] {
    for (;;) {
      sg4::this_actor::sleep_for(std::max(0.0, times_.back() + period_ - sg4::Engine::get_clock()));
      sample();
      if (times_.size() > max_samples_) thin_out();
    }
  })->daemonize();
}

void LinkSampler::sample() {
  times_.push_back(sg4::Engine::get_clock());
  std::vector<double>& values = cumulative_.emplace_back(links_.size());
  for (size_t i = 0; i < links_.size(); ++i) values[i] = sg_link_get_cum_load(links_[i]);
}

// Keeps the samples at even indices (0, 2p, 4p, ...; the newest is one of them, since thinning
// happens when the count first exceeds the even max_samples_): cumulative values merge exactly.
void LinkSampler::thin_out() {
  size_t kept = 0;
  for (size_t i = 0; i < times_.size(); i += 2, ++kept) {
    if (kept == i) continue;  // sample 0 stays (a self-move would empty it)
    times_[kept] = times_[i];
    cumulative_[kept] = std::move(cumulative_[i]);
  }
  times_.resize(kept);
  cumulative_.resize(kept);
  period_ *= 2;
}

std::vector<LinkUsage> LinkSampler::finish(double step_time) {
  if (times_.empty()) return {};
  if (step_time > times_.back()) sample();
  std::vector<LinkUsage> out;
  for (size_t i = 0; i < links_.size(); ++i) {
    const double bytes = cumulative_.back()[i];
    if (bytes <= 0) continue;
    LinkUsage u;
    u.name = readable_name(links_[i]->get_name());
    u.bandwidth = links_[i]->get_bandwidth();
    u.bytes = bytes;
    u.busy_fraction = step_time > 0 ? bytes / (u.bandwidth * step_time) : 0;
    for (size_t k = 1; k < times_.size(); ++k) {
      const double dt = times_[k] - times_[k - 1];
      if (dt <= 0) continue;
      u.utilization.emplace_back(times_[k], (cumulative_[k][i] - cumulative_[k - 1][i]) / (u.bandwidth * dt));
    }
    out.push_back(std::move(u));
  }
  std::sort(out.begin(), out.end(), [](const LinkUsage& a, const LinkUsage& b) { return a.name < b.name; });
  return out;
}

}  // namespace stepsim
