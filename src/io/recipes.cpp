#include "podperf/io/recipes.hpp"

#include <algorithm>
#include <filesystem>

#include "podperf/io/toml_fields.hpp"

namespace fs = std::filesystem;

namespace podperf {

const Recipe& RecipeDb::recipe(const std::string& id) const {
  auto it = recipes.find(id);
  if (it == recipes.end()) {
    std::string known;
    for (auto& [k, v] : recipes) known += (known.empty() ? "" : ", ") + k;
    throw InputError("flag --recipe: unknown recipe '" + id + "' (known: " + (known.empty() ? "none" : known) + ")");
  }
  return it->second;
}

const Recipe* RecipeDb::native_for(const std::string& chip_id) const {
  for (auto& [k, r] : recipes)
    if (std::find(r.native.begin(), r.native.end(), chip_id) != r.native.end()) return &r;
  return nullptr;
}

RecipeDb load_recipes(const std::string& hwdb_dir) {
  RecipeDb db;
  const fs::path folder = fs::path(hwdb_dir) / "recipes";
  if (!fs::is_directory(folder)) return db;
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(folder))
    if (e.path().extension() == ".toml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> native_owner;
  for (auto& path : files) {
    const std::string file = path.lexically_normal().string();
    const toml::table root = io::parse_toml_file(file);
    io::StrictReader rd{file, root, "", {}};
    Recipe r;
    r.file = file;
    r.id = rd.str("id");
    if (r.id != path.stem().string())
      throw InputError(file, io::line_of(*root.get("id")), "id",
                       "'" + r.id + "' does not match the file name '" + path.filename().string() + "'");
    r.name = rd.str("name");
    r.source = rd.str("source");
    r.kind = rd.str("kind");
    static const std::vector<std::string> kinds = {"vendor", "analyst", "measured", "measured-fit", "derived", "assumption"};
    if (std::find(kinds.begin(), kinds.end(), r.kind) == kinds.end())
      throw InputError(file, io::line_of(*root.get("kind")), "kind", "unknown kind '" + r.kind + "'");
    auto fmt = [&](const char* k, bool required) {
      const std::string s = rd.str(k, required);
      Format f;
      if (!s.empty() && !parse_format(s, f) && !parse_precision(s, f.p))
        throw InputError(file, io::line_of(*root.get(k)), k,
                         "unknown format '" + s + "' (fp4 | nvfp4 | mxfp4 | fp8 | mxfp8 | hif8 | int8 | bf16 | fp32)");
      return s;
    };
    r.weights = fmt("weights", true);
    r.w_attn = fmt("w_attn", false);
    r.w_ffn = fmt("w_ffn", false);
    r.w_experts = fmt("w_experts", false);
    r.w_shared = fmt("w_shared", false);
    r.w_head = fmt("w_head", false);
    r.kv = fmt("kv", true);
    r.attn = rd.str("attn");
    Precision ap;
    if (!parse_precision(r.attn, ap))
      throw InputError(file, io::line_of(*root.get("attn")), "attn", "unknown precision '" + r.attn + "' (fp4 | fp8 | int8 | bf16 | fp32)");
    if (const toml::node* n = rd.get("native")) {
      const toml::array* a = n->as_array();
      if (!a) throw InputError(file, io::line_of(*n), "native", "must be a list of chip ids");
      for (auto& v : *a) {
        if (!v.is_string()) throw InputError(file, io::line_of(v), "native", "must be a list of chip ids");
        const std::string chip = v.as_string()->get();
        if (auto [it, fresh] = native_owner.emplace(chip, r.id); !fresh)
          throw InputError(file, io::line_of(v), "native", "chip '" + chip + "' is already native to recipe '" + it->second + "'");
        r.native.push_back(chip);
      }
    }
    rd.done();
    db.recipes.emplace(r.id, std::move(r));
  }
  return db;
}

}  // namespace podperf
