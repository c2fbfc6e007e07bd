// Sweep spec (docs/formats/sweep.md): a base scenario plus axes of `--set` overrides, combined
// per group by product or zip, with skip rules that drop combinations with a recorded reason.
//
// parse_sweep_spec() is strict like every stepsim format: unknown keys, wrong types, empty axes,
// zip groups of unequal lengths and skip rules naming unknown axes or values are reported with
// file:line: json.path and a fix. enumerate_sweep() expands a valid spec deterministically:
// groups in order; in a product the first axis is the outermost loop. Each point's id is a hash
// of its effective overrides (path → value, sorted), so it is stable across runs, orders and
// shards; points with identical overrides are kept once. SimGrid-free; runs nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scenario/json_document.h"
#include "scenario/overrides.h"

namespace stepsim {

// One value of an axis: a label (the CSV cell) and the overrides it applies.
struct AxisValue {
  std::string label;
  std::vector<std::pair<std::string, Json>> set;  // scenario path -> JSON value, in spec order
};

struct SweepAxis {
  std::string name;  // the column name: the path for a path axis, "name" for a bundle axis
  std::vector<AxisValue> values;
};

enum class Combine { product, zip };

struct SweepGroup {
  Combine combine = Combine::product;
  std::vector<SweepAxis> axes;
};

struct SkipRule {
  std::vector<std::pair<std::string, std::vector<std::string>>> when;  // axis name -> labels (any of)
  std::string reason;
};

// Which points the engine simulates: every one, only those whose memory fits (the others keep
// their memory verdict and are recorded as skipped), or none (memory and compute only).
enum class SimulateMode { all, fits, none };

struct SweepSpec {
  std::string file;
  std::string name, description;
  std::string base;       // the base scenario as written in the spec
  std::string base_path;  // resolved file path
  std::vector<std::pair<std::string, Json>> set;  // fixed overrides for every point
  std::vector<SweepGroup> groups;
  std::vector<SkipRule> skip;
  SimulateMode simulate = SimulateMode::all;
  bool invalid_is_skip = false;  // "invalid": "skip" records invalid points as skipped, not failed

  std::vector<std::string> axis_names() const;  // union over groups, first-seen order
};

struct SweepPoint {
  size_t index = 0;  // position in the enumeration, 0-based
  std::string id;    // 16 hex digits
  std::vector<std::pair<std::string, std::string>> axes;  // axis name -> label (its group's axes)
  std::vector<Override> overrides;  // effective overrides, sorted by path; values as JSON text
  std::optional<std::string> skip_reason;  // set when a skip rule matches
};

constexpr size_t kMaxSweepPoints = 1000000;

Result<SweepSpec> parse_sweep_spec(const JsonDocument& doc);
Result<SweepSpec> load_sweep_spec(const std::string& path);

// Every point, in enumeration order, duplicates (same id) removed, skip rules applied.
std::vector<SweepPoint> enumerate_sweep(const SweepSpec& spec);

// The number of points before duplicates are removed (product of axis lengths, or the zip length).
size_t raw_point_count(const SweepSpec& spec);

// FNV-1a 64 of "path=value\n" over the sorted overrides, as 16 lowercase hex digits.
std::string point_id(const std::vector<Override>& sorted_overrides);

// The label shown for a JSON value: a string as is, anything else as compact JSON.
std::string value_label(const Json& value);

// Loads the scenario of every point (no simulation) and reports the invalid ones, attributed to
// the spec file ("point 3 (box=…): …"). With "invalid": "skip" invalid points are allowed and only
// counted. `summary` receives "N points (…) over axes …".
Diagnostics check_sweep(const SweepSpec& spec, std::string* summary);

// The shipped sweep specs (scenarios/sweeps/*.json under the data root), sorted.
std::vector<std::string> sweep_spec_files();

// True when the document looks like a sweep spec (for file-kind detection).
bool is_sweep_spec(const Json& root);

}  // namespace stepsim
