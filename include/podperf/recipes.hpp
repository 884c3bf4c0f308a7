// Deployed precision recipes (hwdb/recipes/*.toml): the weight, KV-cache and attention precisions a
// vendor or operator runs, and the chips for which each is the native default. Data, not code.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "podperf/spec.hpp"

namespace podperf {

struct Recipe {
  std::string id, name, source, kind, file;
  Precision weights = Precision::bf16, kv = Precision::bf16, attn = Precision::bf16;
  std::vector<std::string> native;  // chip ids this recipe is the default for
};

struct RecipeDb {
  std::map<std::string, Recipe> recipes;
  const Recipe& recipe(const std::string& id) const;         // InputError naming --recipe when unknown
  const Recipe* native_for(const std::string& chip_id) const;  // nullptr when none
};

// Reads <hwdb>/recipes/*.toml (an absent folder gives an empty set). Bad input: InputError with
// file:line:field; a chip named native by two recipes is an error.
RecipeDb load_recipes(const std::string& hwdb_dir);

}  // namespace podperf
