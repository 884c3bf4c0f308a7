#pragma once
#include <string>
#include <vector>

#include "podperf/io/toml_fields.hpp"

namespace podperf::io {

struct EntityKind {
  std::string folder;  // "chips", ...
  FileSchema schema;   // schema.entity: "chip", ...
};

const std::vector<EntityKind>& entity_kinds();
const FileSchema& schema_of(const std::string& entity);

}  // namespace podperf::io
