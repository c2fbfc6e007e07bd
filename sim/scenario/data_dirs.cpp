#include "scenario/data_dirs.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace stepsim {

std::string data_root() {
  const char* env = std::getenv("STEPSIM_DATA_DIR");
  if (env && *env) return env;
  return STEPSIM_DEFAULT_DATA_DIR;
}

std::string catalog_dir(CatalogKind kind) {
  fs::path root(data_root());
  switch (kind) {
    case CatalogKind::gpus: return (root / "topologies" / "gpus").string();
    case CatalogKind::models: return (root / "models").string();
    case CatalogKind::topologies: return (root / "topologies").string();
    case CatalogKind::scenarios: return (root / "scenarios").string();
  }
  return root.string();
}

std::string catalog_noun(CatalogKind kind) {
  switch (kind) {
    case CatalogKind::gpus: return "GPU";
    case CatalogKind::models: return "model";
    case CatalogKind::topologies: return "topology";
    case CatalogKind::scenarios: return "scenario";
  }
  return "";
}

std::vector<std::string> catalog_files(CatalogKind kind) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(catalog_dir(kind), ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json")
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> catalog_ids(CatalogKind kind) {
  std::vector<std::string> ids;
  for (const auto& f : catalog_files(kind)) ids.push_back(fs::path(f).stem().string());
  return ids;
}

bool looks_like_path(const std::string& ref) {
  return ref.find('/') != std::string::npos ||
         (ref.size() > 5 && ref.compare(ref.size() - 5, 5, ".json") == 0);
}

std::string parent_dir(const std::string& file) { return fs::path(file).parent_path().string(); }

std::optional<std::string> resolve_reference(CatalogKind kind, const std::string& ref,
                                             const std::string& base_dir) {
  std::error_code ec;
  if (looks_like_path(ref)) {
    fs::path p(ref);
    if (p.is_relative() && !base_dir.empty() && fs::is_regular_file(fs::path(base_dir) / p, ec))
      return (fs::path(base_dir) / p).lexically_normal().string();
    if (fs::is_regular_file(p, ec)) return p.string();
    return std::nullopt;
  }
  fs::path p = fs::path(catalog_dir(kind)) / (ref + ".json");
  if (fs::is_regular_file(p, ec)) return p.string();
  return std::nullopt;
}

}  // namespace stepsim
