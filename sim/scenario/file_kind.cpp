#include "scenario/file_kind.h"

#include <fmt/format.h>

#include "scenario/collective_calibration.h"
#include "scenario/cost_spec.h"
#include "scenario/efficiency_spec.h"
#include "scenario/memory_overheads.h"
#include "scenario/scenario.h"
#include "scenario/sweep_spec.h"

namespace stepsim {

namespace {

std::string detect_kind(const Json& root) {
  if (!root.is_object()) return "unknown";
  if (is_sweep_spec(root)) return "sweep";
  if (root.contains("training") || root.contains("cluster")) return "scenario";
  if (is_hf_config(root)) return "hf-config";
  if (root.contains("link_types") || root.contains("node")) return "topology";
  if (root.contains("gemm")) return "efficiency";
  if (root.contains("link_efficiency")) return "collective-calibration";
  if (root.contains("cuda_context_mib")) return "memory-overheads";
  if (root.contains("electricity_usd_per_kwh")) return "cost-defaults";
  if (root.contains("dense_tflops") || root.contains("memory")) return "gpu";
  if (root.contains("layers") || root.contains("arch")) return "model";
  return "unknown";
}

}  // namespace

CheckOutcome check_file(const std::string& path) {
  CheckOutcome out;
  auto doc = load_json_file(path);
  if (!doc.ok()) {
    out.errors = doc.errors();
    return out;
  }
  out.kind = detect_kind(doc.value().root);
  if (out.kind == "scenario") {
    auto s = parse_scenario(doc.value(), {});
    if (!s.ok()) out.errors = s.errors();
    else
      out.summary = fmt::format("scenario: {} on {} node(s) × {} {} ({} GPUs), tp{} pp{} dp{} cp{}", s.value().model.id,
                                s.value().nodes, s.value().gpus_per_node(), s.value().gpu.id, s.value().total_gpus(),
                                s.value().training.tp, s.value().training.pp, s.value().dp(), s.value().training.cp);
  } else if (out.kind == "model" || out.kind == "hf-config") {
    auto m = parse_model(doc.value());
    if (!m.ok()) out.errors = m.errors();
    else
      out.summary = fmt::format("{}: {} ({}, {} layers, hidden {})", out.kind, m.value().id, to_string(m.value().arch),
                                m.value().layers, m.value().hidden);
  } else if (out.kind == "topology") {
    auto t = parse_topology(doc.value());
    if (!t.ok()) out.errors = t.errors();
    else
      out.summary = fmt::format("topology: {} ({} GPUs per node, {} devices, {} links, fabric {})", t.value().id,
                                t.value().gpus_per_node(), t.value().devices.size(), t.value().links.size(),
                                t.value().fabric ? t.value().fabric->kind : "none");
  } else if (out.kind == "efficiency") {
    auto e = parse_efficiency(doc.value());
    if (!e.ok()) out.errors = e.errors();
    else out.summary = fmt::format("efficiency: {} family", e.value().family);
  } else if (out.kind == "collective-calibration") {
    auto c = parse_collective_calibration(doc.value());
    if (!c.ok()) out.errors = c.errors();
    else out.summary = "collective calibration";
  } else if (out.kind == "memory-overheads") {
    auto m = parse_memory_overheads(doc.value());
    if (!m.ok()) out.errors = m.errors();
    else out.summary = "memory overheads";
  } else if (out.kind == "cost-defaults") {
    auto c = parse_cost_defaults(doc.value());
    if (!c.ok()) out.errors = c.errors();
    else out.summary = "cost defaults";
  } else if (out.kind == "sweep") {
    auto spec = parse_sweep_spec(doc.value());
    if (!spec.ok()) out.errors = spec.errors();
    else out.errors = check_sweep(spec.value(), &out.summary);
  } else if (out.kind == "gpu") {
    auto g = parse_gpu(doc.value());
    if (!g.ok()) out.errors = g.errors();
    else out.summary = fmt::format("gpu: {} ({})", g.value().id, g.value().name);
  } else {
    out.errors.add({path, 1, "", "not a stepsim file: cannot tell whether it is a scenario, model, topology or GPU",
                    "a scenario has \"training\", a model \"layers\", a topology \"link_types\", a GPU \"dense_tflops\""});
  }
  return out;
}

}  // namespace stepsim
