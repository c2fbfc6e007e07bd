// Where shipped data lives and how a reference ("llama3-70b" or "path/to/file.json") becomes a
// file path. The data root is $STEPSIM_DATA_DIR when set, else the source tree the binary was
// built from. Listings are sorted so that output is deterministic.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace stepsim {

enum class CatalogKind { gpus, models, topologies, scenarios };

std::string data_root();
std::string catalog_dir(CatalogKind kind);                 // absolute folder of that catalog
std::vector<std::string> catalog_ids(CatalogKind kind);    // ids (file stems), sorted
std::vector<std::string> catalog_files(CatalogKind kind);  // full paths, sorted like the ids
std::string catalog_noun(CatalogKind kind);                // "GPU", "model", ...

// A reference that ends in ".json" or contains '/' is a path (relative to `base_dir`, the folder of
// the file that mentions it, then to the current directory); anything else is a catalog id.
// Returns nullopt when no such file exists.
std::optional<std::string> resolve_reference(CatalogKind kind, const std::string& ref,
                                             const std::string& base_dir);
bool looks_like_path(const std::string& ref);
std::string parent_dir(const std::string& file);

}  // namespace stepsim
