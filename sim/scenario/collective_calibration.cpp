#include "scenario/collective_calibration.h"

#include "scenario/citations.h"
#include "scenario/data_dirs.h"
#include "scenario/field_reader.h"

namespace stepsim {

namespace {

AlgorithmLatency read_latency(FieldReader& parent, const std::string& key) {
  AlgorithmLatency a;
  parent.require(key);
  if (const Json* o = parent.object_member(key)) {
    FieldReader r(parent.document(), *o, parent.path_of(key), parent.diagnostics());
    a.base = r.required_number("base_us", 0, 1e6) * 1e-6;
    a.nvlink = r.required_number("nvlink_us", 0, 1e6) * 1e-6;
    a.pcie = r.required_number("pcie_us", 0, 1e6) * 1e-6;
    a.net = r.required_number("net_us", 0, 1e6) * 1e-6;
    r.finish();
  }
  return a;
}

NcclTuning read_tuning(FieldReader& parent) {
  NcclTuning t;
  parent.require("nccl_tuning");
  if (const Json* o = parent.object_member("nccl_tuning")) {
    FieldReader r(parent.document(), *o, "nccl_tuning", parent.diagnostics());
    t.ring = read_latency(r, "ring");
    t.tree = read_latency(r, "tree");
    t.net_overhead = r.required_number("net_overhead_us", 0, 1e6) * 1e-6;
    t.ring_multinode_factor = r.required_number("ring_multinode_latency_factor", 1, 10);
    t.tree_bandwidth_factor = r.required_number("tree_bandwidth_factor", 0.01, 1);
    t.ring_ll = read_latency(r, "ring_ll");
    t.ring_ll128 = read_latency(r, "ring_ll128");
    t.ll_bandwidth_factor = r.required_number("ll_bandwidth_factor", 0.01, 1);
    t.ll_max_busbw = r.required_number("ll_max_busbw_gbps", 0.001, 1e6) * 1e9;
    t.ll128_bandwidth_factor = r.required_number("ll128_bandwidth_factor", 0.01, 1);
    t.tree_ll = read_latency(r, "tree_ll");
    t.tree_ll128 = read_latency(r, "tree_ll128");
    t.tree_ll_bandwidth_factor = r.required_number("tree_ll_bandwidth_factor", 0.01, 1);
    t.tree_ll128_bandwidth_factor_one_node = r.required_number("tree_ll128_bandwidth_factor_one_node", 0.01, 1);
    t.tree_ll128_bandwidth_factor_multi_node = r.required_number("tree_ll128_bandwidth_factor_multi_node", 0.01, 1);
    r.require("ll128_families");
    if (const Json* families = r.array_member("ll128_families")) {
      for (size_t i = 0; i < families->size(); ++i) {
        const Json& f = (*families)[i];
        if (!f.is_string()) {
          r.error(index_path("ll128_families", i), "expected a GPU family name, got " + describe_json(f),
                  "write family names as in topologies/gpus/*.json, e.g. \"hopper\"");
          continue;
        }
        t.ll128_families.push_back(f.get<std::string>());
      }
    }
    r.finish();
  }
  return t;
}

}  // namespace

double CollectiveCalibration::efficiency(const std::string& link_kind) const {
  auto it = link_efficiency.find(link_kind);
  return it == link_efficiency.end() ? 1.0 : it->second;
}

Result<CollectiveCalibration> parse_collective_calibration(const JsonDocument& doc) {
  Diagnostics diags;
  CollectiveCalibration c;
  FieldReader r(doc, doc.root, "", diags);
  r.require("link_efficiency");
  if (const Json* e = r.object_member("link_efficiency")) {
    FieldReader er(doc, *e, "link_efficiency", diags);
    for (const char* kind : {"nvlink", "pcie", "socket", "ib", "roce", "ethernet", "xgmi"})
      if (auto v = er.optional_number(kind, 0.01, 1.0)) c.link_efficiency[kind] = *v;
    er.finish();
  }
  c.launch_latency = r.required_number("launch_latency_us", 0, 1e6) * 1e-6;
  c.nvls_algbw_fraction = r.required_number("nvls_algbw_fraction", 0.01, 1.0);
  c.nvls_latency = r.required_number("nvls_latency_us", 0, 1e6) * 1e-6;
  c.tuning = read_tuning(r);
  const auto sources = read_sources(r);
  r.finish();
  if (diags.ok()) check_citations(doc, doc.root, "", sources, {"sources"}, diags);
  if (!diags.ok()) return diags;
  return c;
}

Result<CollectiveCalibration> load_collective_calibration() {
  auto doc = load_json_file(data_root() + "/topologies/framework/collectives.json");
  if (!doc.ok()) return doc.errors();
  return parse_collective_calibration(doc.value());
}

}  // namespace stepsim
