#include "scenario/topology_spec.h"

#include <fmt/format.h>

#include <set>

#include "scenario/data_dirs.h"
#include "scenario/field_reader.h"

namespace stepsim {

constexpr double kGB = 1e9;
constexpr double kMicro = 1e-6;

std::string to_string(DeviceKind k) {
  switch (k) {
    case DeviceKind::gpu: return "gpu";
    case DeviceKind::nvswitch: return "nvswitch";
    case DeviceKind::pcie_switch: return "pcie_switch";
    case DeviceKind::cpu: return "cpu";
    case DeviceKind::nic: return "nic";
  }
  return "?";
}

int TopologySpec::gpus_per_node() const {
  int n = 0;
  for (const auto& d : devices) n += d.kind == DeviceKind::gpu;
  return n;
}

namespace {

DeviceKind device_kind(const std::string& s) {
  if (s == "nvswitch") return DeviceKind::nvswitch;
  if (s == "pcie_switch") return DeviceKind::pcie_switch;
  if (s == "cpu") return DeviceKind::cpu;
  if (s == "nic") return DeviceKind::nic;
  return DeviceKind::gpu;
}

void read_link_types(const JsonDocument& doc, const Json& obj, TopologySpec& t, Diagnostics& diags) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::string path = join_path("link_types", it.key());
    FieldReader r(doc, it.value(), path, diags);
    LinkType lt;
    lt.name = it.key();
    r.require("kind");
    lt.kind = r.choice("kind", "pcie", {"nvlink", "pcie", "socket", "ib", "roce", "ethernet", "xgmi"});
    lt.bandwidth = r.required_number("bandwidth_gbps", 0.001, 1e6) * kGB;
    lt.latency = r.required_number("latency_us", 0, 1e6) * kMicro;
    lt.source = r.required_string("source");
    r.finish();
    t.link_types[lt.name] = lt;
  }
}

void read_node(const JsonDocument& doc, const Json& obj, TopologySpec& t, Diagnostics& diags) {
  FieldReader r(doc, obj, "node", diags);
  r.require("devices");
  r.require("links");
  if (const Json* devices = r.array_member("devices")) {
    for (size_t i = 0; i < devices->size(); ++i) {
      FieldReader dr(doc, (*devices)[i], index_path("node.devices", i), diags);
      Device d;
      d.id = dr.required_string("id");
      dr.require("kind");
      d.kind = device_kind(dr.choice("kind", "gpu", {"gpu", "nvswitch", "pcie_switch", "cpu", "nic"}));
      if (d.kind == DeviceKind::nvswitch) d.generation = static_cast<int>(dr.required_integer("generation", 1, 10));
      if (d.kind == DeviceKind::nic) d.link_type = dr.required_string("link_type");
      dr.finish();
      t.devices.push_back(d);
    }
  }
  if (const Json* links = r.array_member("links")) {
    for (size_t i = 0; i < links->size(); ++i) {
      FieldReader lr(doc, (*links)[i], index_path("node.links", i), diags);
      Link l;
      l.a = lr.required_string("a");
      l.b = lr.required_string("b");
      l.type = lr.required_string("type");
      l.count = static_cast<int>(lr.integer_or("count", 1, 1, 64));
      lr.finish();
      t.links.push_back(l);
    }
  }
  r.finish();
}

void read_fabric(const JsonDocument& doc, const Json& obj, TopologySpec& t, Diagnostics& diags) {
  FieldReader r(doc, obj, "fabric", diags);
  Fabric f;
  r.require("kind");
  f.kind = r.choice("kind", "single_switch", {"single_switch", "fat_tree", "rail_optimized"});
  f.link_type = r.required_string("link_type");
  bool tiered = f.kind != "single_switch";
  f.nodes_per_leaf = static_cast<int>(tiered ? r.required_integer("nodes_per_leaf", 1, 1 << 20)
                                             : r.integer_or("nodes_per_leaf", 0, 0, 1 << 20));
  f.oversubscription = r.number_or("oversubscription", 1.0, 1.0, 64.0);
  f.source = r.required_string("source");
  r.finish();
  t.fabric = f;
}

// Cross-references and connectivity; runs only on a structurally valid spec.
void check_graph(const JsonDocument& doc, const TopologySpec& t, Diagnostics& diags) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < t.devices.size(); ++i) {
    if (!index.emplace(t.devices[i].id, i).second)
      diags.add({doc.file, doc.line_of(index_path("node.devices", i)), index_path("node.devices", i) + ".id",
                 "device id \"" + t.devices[i].id + "\" is used twice", "device ids must be unique within a node"});
    const std::string& nic_type = t.devices[i].link_type;
    if (t.devices[i].kind == DeviceKind::nic && !t.link_types.count(nic_type))
      diags.add({doc.file, doc.line_of(index_path("node.devices", i)), index_path("node.devices", i) + ".link_type",
                 "unknown link type \"" + nic_type + "\"", "define it under \"link_types\""});
  }
  if (t.gpus_per_node() == 0)
    diags.add({doc.file, doc.line_of("node.devices"), "node.devices", "the node has no GPU",
               "add devices with \"kind\": \"gpu\""});
  std::vector<std::vector<size_t>> adjacency(t.devices.size());
  std::vector<std::string> ids;
  for (const auto& d : t.devices) ids.push_back(d.id);
  for (size_t i = 0; i < t.links.size(); ++i) {
    const Link& l = t.links[i];
    std::string path = index_path("node.links", i);
    bool ok = true;
    for (const std::string* end : {&l.a, &l.b}) {
      if (!index.count(*end)) {
        std::string hint = closest_match(*end, ids);
        diags.add({doc.file, doc.line_of(path), path, "link endpoint \"" + *end + "\" is not a device of the node",
                   hint.empty() ? "declare it in node.devices" : "did you mean \"" + hint + "\"?"});
        ok = false;
      }
    }
    if (!t.link_types.count(l.type)) {
      diags.add({doc.file, doc.line_of(path), path + ".type", "unknown link type \"" + l.type + "\"",
                 "define it under \"link_types\""});
      ok = false;
    }
    if (ok && l.a == l.b) {
      diags.add({doc.file, doc.line_of(path), path, "a link from \"" + l.a + "\" to itself", "remove it"});
      ok = false;
    }
    if (ok) {
      adjacency[index[l.a]].push_back(index[l.b]);
      adjacency[index[l.b]].push_back(index[l.a]);
    }
  }
  if (!diags.ok() || t.devices.empty()) return;
  std::vector<bool> seen(t.devices.size(), false);
  std::vector<size_t> stack = {0};
  seen[0] = true;
  while (!stack.empty()) {
    size_t v = stack.back();
    stack.pop_back();
    for (size_t w : adjacency[v])
      if (!seen[w]) {
        seen[w] = true;
        stack.push_back(w);
      }
  }
  std::vector<std::string> unreachable;
  for (size_t i = 0; i < seen.size(); ++i)
    if (!seen[i]) unreachable.push_back(t.devices[i].id);
  if (!unreachable.empty())
    diags.add({doc.file, doc.line_of("node.links"), "node.links",
               fmt::format("the node is disconnected: {} cannot reach {}", fmt::join(unreachable, ", "),
                           t.devices[0].id),
               "add the missing links"});
  bool has_nic = false;
  for (const auto& d : t.devices) has_nic |= d.kind == DeviceKind::nic;
  if (t.fabric && !has_nic)
    diags.add({doc.file, doc.line_of("fabric"), "fabric", "a fabric is given but the node has no NIC",
               "add NIC devices or set \"fabric\": null"});
  if (t.fabric && !t.link_types.count(t.fabric->link_type))
    diags.add({doc.file, doc.line_of("fabric.link_type"), "fabric.link_type",
               "unknown link type \"" + t.fabric->link_type + "\"", "define it under \"link_types\""});
}

// Optional: the node's peak DRAM bandwidth, which times the offloaded optimizer step. A figure
// without its source, or a source without a figure, is an error.
void read_host_memory_bandwidth(FieldReader& r, TopologySpec& t) {
  const auto gbps = r.optional_number("host_memory_bandwidth_gbps", 1, 1e5);
  const auto source = r.optional_string("host_memory_bandwidth_source");
  if (gbps) {
    t.host_memory_bandwidth = *gbps * kGB;
    if (!source || source->empty())
      r.error("host_memory_bandwidth_source", "host_memory_bandwidth_gbps has no source",
              "add \"host_memory_bandwidth_source\": \"<CPU, channels x MT/s x 8 bytes x sockets, and where those "
              "come from>\"");
    else
      t.host_memory_bandwidth_source = *source;
  } else if (source && !r.has("host_memory_bandwidth_gbps")) {
    r.error("host_memory_bandwidth_source", "a source without host_memory_bandwidth_gbps",
            "add \"host_memory_bandwidth_gbps\" (GB/s, peak) or remove the source");
  }
}

}  // namespace

Result<TopologySpec> parse_topology(const JsonDocument& doc) {
  Diagnostics diags;
  TopologySpec t;
  t.file = doc.file;
  FieldReader r(doc, doc.root, "", diags);
  t.id = r.required_string("id");
  t.description = r.string_or("description", "");
  t.gpu = r.required_string("gpu");
  t.nodes = static_cast<int>(r.integer_or("nodes", 1, 1, 1 << 20));
  t.host_memory_bytes = r.required_number("host_memory_gb", 0, 1e9) * kGB;
  read_host_memory_bandwidth(r, t);
  r.require("link_types");
  if (const Json* lt = r.object_member("link_types")) read_link_types(doc, *lt, t, diags);
  r.require("node");
  if (const Json* node = r.object_member("node")) read_node(doc, *node, t, diags);
  if (const Json* fabric = r.object_member("fabric")) read_fabric(doc, *fabric, t, diags);
  r.finish();
  if (diags.ok()) check_graph(doc, t, diags);
  if (!diags.ok()) return diags;
  return t;
}

Result<TopologySpec> load_topology(const std::string& ref, const std::string& base_dir) {
  auto path = resolve_reference(CatalogKind::topologies, ref, base_dir);
  if (!path) {
    Diagnostics d;
    std::string hint = looks_like_path(ref) ? "" : closest_match(ref, catalog_ids(CatalogKind::topologies));
    d.add({"", 0, "", "no topology \"" + ref + "\" in " + catalog_dir(CatalogKind::topologies),
           hint.empty() ? "run `stepsim catalog topologies`" : "did you mean \"" + hint + "\"?"});
    return d;
  }
  auto doc = load_json_file(*path);
  if (!doc.ok()) return doc.errors();
  return parse_topology(doc.value());
}

}  // namespace stepsim
