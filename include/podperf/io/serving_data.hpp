// Serving data files: request mixes (token-length histograms, configs/mixes/*.toml) and latency
// rules of benchmark scenarios (configs/scenarios/*.toml). Loaders throw InputError naming
// file:line:field.
#pragma once
#include <string>

#include "podperf/core/deployment.hpp"

namespace podperf {

// A mix file: [input] and/or [output] tables, each `bins = [[tokens, count], ...]` with its
// `kind` and `source`. `id_or_path` is a file path, or an id under `<configs>/mixes/`. Sections the
// file lacks are left as they are in `mix`.
void load_mix(const std::string& id_or_path, const std::string& configs_dir, RequestMix& mix);

// The rule of `scenario` (offline | server | interactive) for `model_id` from
// `<configs>/scenarios/mlperf-inference.toml`.
ServiceRule load_scenario(const std::string& scenario, const std::string& model_id, const std::string& configs_dir);

}  // namespace podperf
