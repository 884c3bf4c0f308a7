// Deployed precision recipes (hwdb/recipes/*.toml): the weight, KV-cache and attention precisions a
// vendor or operator runs, and the chips for which each is the native default. Data, not code.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "podperf/core/spec.hpp"

namespace podperf {

struct Recipe {
  std::string id, name, source, kind, file;
  // Formats as the estimate flags take them (--weights, --w-attn, ..., --kv, --attn); an empty
  // per-group one follows `weights`.
  std::string weights, w_attn, w_ffn, w_experts, w_shared, w_head, kv, attn;
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
