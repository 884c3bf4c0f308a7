// A small sweep written whole in the layout of docs/hdf5-layout.md: /point, /reason, /axes/<a>,
// /metrics/<m>, each 1-D, chunked, shuffled and deflated, with `units`; root attributes trace the
// run. Written to PATH.part and renamed to PATH when complete.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace podperf {

struct H5Column {
  std::string name, units;
  std::vector<double> values;
  std::vector<std::string> labels;  // text axis: values index into labels (stored as uint16)
};

struct H5Table {
  std::vector<std::pair<std::string, std::string>> text_attrs;  // root attributes (text)
  std::vector<std::pair<std::string, double>> num_attrs;        // root attributes (numbers)
  std::vector<std::int8_t> reason;                              // 0 = ok, per row
  std::string reason_codes;                                     // "code: text; ..."
  std::vector<H5Column> axes, metrics;
};

void write_h5_table(const std::string& path, const H5Table& t);

}  // namespace podperf
