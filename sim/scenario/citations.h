// The sources rule shared by the hardware and calibration data files: every number (and
// descriptive fact) is cited in the file's "sources" map at its JSON path or an ancestor path.
#pragma once

#include <map>
#include <set>
#include <string>

#include "scenario/field_reader.h"
#include "scenario/json_document.h"

namespace stepsim {

bool is_cited(const std::map<std::string, std::string>& sources, std::string path);

// Adds a diagnostic for every non-null leaf under `node` without a citation; top-level keys in
// `skip_top_level` (identity fields, the sources map itself) are not checked.
void check_citations(const JsonDocument& doc, const Json& node, const std::string& path,
                     const std::map<std::string, std::string>& sources, const std::set<std::string>& skip_top_level,
                     Diagnostics& diags);

// Reads the required "sources" object of `r` (citation strings by JSON path).
std::map<std::string, std::string> read_sources(FieldReader& r);

// True when the dotted path names a member of `root`: a citation key that names nothing is a typo.
bool names_a_value(const Json& root, const std::string& path);

}  // namespace stepsim
