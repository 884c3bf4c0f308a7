#include "podperf/io/table_h5.hpp"

#include <H5Cpp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "podperf/io/error.hpp"

namespace podperf {

namespace {
void text_attr(H5::H5Object& o, const std::string& name, const std::string& v) {
  const H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
  H5::Attribute a = o.createAttribute(name, t, H5::DataSpace(H5S_SCALAR));
  a.write(t, v);
}

void num_attr(H5::H5Object& o, const std::string& name, double v) {
  H5::Attribute a = o.createAttribute(name, H5::PredType::NATIVE_DOUBLE, H5::DataSpace(H5S_SCALAR));
  a.write(H5::PredType::NATIVE_DOUBLE, &v);
}

void labels_attr(H5::H5Object& o, const std::vector<std::string>& labels) {
  const H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
  const hsize_t n = labels.size();
  H5::Attribute a = o.createAttribute("labels", t, H5::DataSpace(1, &n));
  std::vector<const char*> p;
  for (auto& l : labels) p.push_back(l.c_str());
  a.write(t, p.data());
}

H5::DataSet column(H5::Group& g, const std::string& name, const H5::PredType& file_type, const H5::PredType& mem_type,
                   const void* data, hsize_t n, const std::string& units) {
  H5::DSetCreatPropList p;
  const hsize_t chunk = std::max<hsize_t>(1, std::min<hsize_t>(n, 65536));
  p.setChunk(1, &chunk);
  p.setShuffle();
  p.setDeflate(1);
  H5::DataSet d = g.createDataSet(name, file_type, H5::DataSpace(1, &n), p);
  if (n > 0) d.write(data, mem_type);
  text_attr(d, "units", units);
  return d;
}
}  // namespace

void write_h5_table(const std::string& path, const H5Table& t) {
  const std::string part = path + ".part";
  const std::size_t n = t.reason.size();
  try {
    H5::Exception::dontPrint();
    {
      H5::H5File f(part, H5F_ACC_TRUNC);
      H5::Group root = f.openGroup("/");
      for (auto& [k, v] : t.text_attrs) text_attr(root, k, v);
      for (auto& [k, v] : t.num_attrs) num_attr(root, k, v);
      std::vector<std::uint64_t> point(n);
      for (std::size_t i = 0; i < n; ++i) point[i] = i;
      column(root, "point", H5::PredType::STD_U64LE, H5::PredType::NATIVE_UINT64, point.data(), n, "index");
      H5::DataSet r = column(root, "reason", H5::PredType::STD_I8LE, H5::PredType::NATIVE_INT8, t.reason.data(), n, "code");
      text_attr(r, "codes", t.reason_codes);
      H5::Group axes = f.createGroup("axes"), metrics = f.createGroup("metrics");
      for (auto& c : t.axes) {
        if (!c.labels.empty()) {
          std::vector<std::uint16_t> idx(c.values.begin(), c.values.end());
          H5::DataSet d = column(axes, c.name, H5::PredType::STD_U16LE, H5::PredType::NATIVE_UINT16, idx.data(), n, c.units);
          labels_attr(d, c.labels);
        } else {
          column(axes, c.name, H5::PredType::IEEE_F64LE, H5::PredType::NATIVE_DOUBLE, c.values.data(), n, c.units);
        }
      }
      for (auto& c : t.metrics) column(metrics, c.name, H5::PredType::IEEE_F64LE, H5::PredType::NATIVE_DOUBLE, c.values.data(), n, c.units);
      f.close();
    }
  } catch (const H5::Exception& e) {
    std::remove(part.c_str());
    throw InputError("flag -o: cannot write '" + path + "' (" + e.getDetailMsg() + ")");
  }
  std::error_code ec;
  std::filesystem::rename(part, path, ec);
  if (ec) throw InputError("flag -o: cannot rename '" + part + "' to '" + path + "' (" + ec.message() + ")");
}

}  // namespace podperf
