// Loading model architectures from configs/models/*.toml (sourced hyper-parameters), validated
// with file:line errors like the hwdb.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "podperf/core/model.hpp"
#include "podperf/io/record.hpp"

namespace podperf {

struct ModelDb {
  std::string dir;
  std::map<std::string, Record> records;
  std::map<std::string, std::vector<LayerGroup>> layer_groups;  // [[layer_groups]] where given
  Model model(const std::string& id) const;  // throws InputError for an unknown id
};

ModelDb load_models(const std::string& dir);

// The shipped configs directory: $PODPERF_CONFIGS, else ../configs next to the binary, else the
// source tree's.
std::string default_configs_dir(const char* argv0);

}  // namespace podperf
