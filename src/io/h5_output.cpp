#include "podperf/h5_output.hpp"

#include <H5Cpp.h>

#include <vector>

#include "podperf/error.hpp"

namespace podperf {

namespace {
const H5::StrType& vlen_str() {
  static const H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
  return t;
}

void put_attr(H5::H5Object& obj, const std::string& name, const std::string& value) {
  if (obj.attrExists(name)) obj.removeAttr(name);
  H5::Attribute a = obj.createAttribute(name, vlen_str(), H5::DataSpace(H5S_SCALAR));
  const char* p = value.c_str();
  a.write(vlen_str(), &p);
}

void put_attr(H5::H5Object& obj, const std::string& name, std::uint64_t value) {
  if (obj.attrExists(name)) obj.removeAttr(name);
  H5::Attribute a = obj.createAttribute(name, H5::PredType::STD_U64LE, H5::DataSpace(H5S_SCALAR));
  a.write(H5::PredType::NATIVE_UINT64, &value);
}

void put_attr(H5::H5Object& obj, const std::string& name, const std::vector<std::string>& values) {
  if (obj.attrExists(name)) obj.removeAttr(name);
  const hsize_t n = values.size();
  H5::Attribute a = obj.createAttribute(name, vlen_str(), H5::DataSpace(1, &n));
  std::vector<const char*> p;
  for (auto& v : values) p.push_back(v.c_str());
  a.write(vlen_str(), p.data());
}

std::string get_str_attr(const H5::H5Object& obj, const std::string& name) {
  H5::Attribute a = obj.openAttribute(name);
  std::string s;
  a.read(a.getStrType(), s);
  return s;
}

std::uint64_t get_u64_attr(const H5::H5Object& obj, const std::string& name) {
  std::uint64_t v = 0;
  obj.openAttribute(name).read(H5::PredType::NATIVE_UINT64, &v);
  return v;
}

H5::DataSet make_column(H5::Group& g, const std::string& name, const H5::PredType& type, hsize_t chunk,
                        const std::string& units) {
  const hsize_t zero = 0, unlimited = H5S_UNLIMITED;
  H5::DataSpace space(1, &zero, &unlimited);
  H5::DSetCreatPropList plist;
  H5Pset_obj_track_times(plist.getId(), false);  // no timestamps: identical runs, identical bytes
  plist.setChunk(1, &chunk);
  plist.setShuffle();
  plist.setDeflate(1);
  H5::DataSet d = g.createDataSet(name, type, space, plist);
  put_attr(d, "units", units);
  return d;
}

H5::Group make_group(H5::H5File& f, const char* name) {
  const hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  H5Pset_obj_track_times(gcpl, false);
  const hid_t g = H5Gcreate2(f.getId(), name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  if (g < 0) throw H5::GroupIException("make_group", std::string("cannot create ") + name);
  H5::Group group(g);
  H5Gclose(g);
  return group;
}

template <class T>
void append_column(H5::DataSet& d, const T* data, hsize_t old_rows, hsize_t n, const H5::PredType& mem) {
  const hsize_t total = old_rows + n;
  d.extend(&total);
  H5::DataSpace file = d.getSpace();
  file.selectHyperslab(H5S_SELECT_SET, &n, &old_rows);
  H5::DataSpace memspace(1, &n);
  d.write(data, mem, memspace, file);
}
}  // namespace

struct SweepFile::Impl {
  std::unique_ptr<H5::H5File> file_ptr;
  H5::H5File& file() { return *file_ptr; }
  const SweepSpec* spec = nullptr;
  H5::DataSet point, reason;
  std::vector<H5::DataSet> axes, metrics;
  std::vector<bool> axis_is_label;
  std::uint64_t rows = 0, points_done = 0;
  std::vector<std::uint16_t> labels_buf;
  std::string path;
};

SweepFile::SweepFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SweepFile::SweepFile(SweepFile&&) noexcept = default;
SweepFile::~SweepFile() {
  try {
    close();
  } catch (...) {
  }
}

SweepFile SweepFile::create(const std::string& path, const SweepSpec& spec, const std::vector<SweepStamp>& stamps,
                            const std::string& created, std::uint64_t chunk_rows) {
  try {
    H5::Exception::dontPrint();
    auto im = std::make_unique<Impl>();
    im->spec = &spec;
    im->path = path;
    im->file_ptr = std::make_unique<H5::H5File>(path, H5F_ACC_TRUNC);
    H5::Group root = im->file().openGroup("/");
    for (auto& st : stamps) put_attr(root, st.attr, st.value);
    put_attr(root, "sweep_id", spec.id);
    put_attr(root, "sweep_description", spec.description);
    put_attr(root, "sweep_spec", spec.text);
    put_attr(root, "created_utc", created);
    put_attr(root, "points_total", spec.points());
    put_attr(root, "invalid_points", std::string(spec.keep_invalid ? "kept with a reason code" : "skipped"));
    const hsize_t chunk = std::max<std::uint64_t>(1, std::min<std::uint64_t>(chunk_rows, spec.points()));
    H5::Group axes = make_group(im->file(), "/axes");
    for (auto& a : spec.axes) {
      const bool lab = axis_is_text(a.id);
      H5::DataSet d = make_column(axes, to_string(a.id), lab ? H5::PredType::STD_U16LE : H5::PredType::IEEE_F64LE, chunk,
                                  axis_unit(a.id));
      if (lab) put_attr(d, "labels", a.labels);
      im->axes.push_back(d);
      im->axis_is_label.push_back(lab);
    }
    H5::Group metrics = make_group(im->file(), "/metrics");
    for (auto m : spec.metrics) im->metrics.push_back(make_column(metrics, to_string(m), H5::PredType::IEEE_F64LE, chunk, metric_unit(m)));
    im->point = make_column(root, "point", H5::PredType::STD_U64LE, chunk, "index into the Cartesian product (last axis fastest)");
    im->reason = make_column(root, "reason", H5::PredType::STD_I8LE, chunk, "code; 0 = ok");
    std::vector<std::string> codes;
    for (auto c : sweep_reason_codes()) codes.push_back(std::to_string(c) + ": " + sweep_reason_text(c));
    put_attr(im->reason, "codes", codes);
    SweepFile f(std::move(im));
    f.checkpoint(0, false);
    return f;
  } catch (const H5::Exception& e) {
    throw InputError(path + ": cannot create HDF5 file (" + e.getDetailMsg() + ")");
  }
}

SweepFile SweepFile::reopen(const std::string& path, const SweepSpec& spec, const std::vector<SweepStamp>& stamps) {
  try {
    H5::Exception::dontPrint();
    {
      // The checks, on a read-only open: nothing is written to a file that is refused.
      H5::H5File ro(path, H5F_ACC_RDONLY);
      H5::Group root = ro.openGroup("/");
      for (const char* a : {"sweep_spec", "complete", "points_done", "rows_written"})
        if (!root.attrExists(a)) throw InputError(path + ": --resume refused: not a podperf sweep file (no attribute '" + a + "')");
      if (get_str_attr(root, "sweep_spec") != spec.text)
        throw InputError(path + ": --resume refused: written by another sweep spec; --resume needs the same spec file");
      if (get_u64_attr(root, "complete")) throw InputError(path + ": already complete; nothing to resume");
      for (auto& st : stamps) {
        const std::string was = root.attrExists(st.attr) ? get_str_attr(root, st.attr) : std::string("(none)");
        if (was != st.value)
          throw InputError(path + ": --resume refused: the " + st.what + " changed (file: " + was + ", now: " + st.value +
                           "); run without --resume to start over");
      }
    }
    auto im = std::make_unique<Impl>();
    im->spec = &spec;
    im->path = path;
    im->file_ptr = std::make_unique<H5::H5File>(path, H5F_ACC_RDWR);
    H5::Group root = im->file().openGroup("/");
    im->points_done = get_u64_attr(root, "points_done");
    im->rows = get_u64_attr(root, "rows_written");
    for (auto& a : spec.axes) {
      im->axes.push_back(im->file().openDataSet(std::string("/axes/") + to_string(a.id)));
      im->axis_is_label.push_back(axis_is_text(a.id));
    }
    for (auto m : spec.metrics) im->metrics.push_back(im->file().openDataSet(std::string("/metrics/") + to_string(m)));
    im->point = im->file().openDataSet("/point");
    im->reason = im->file().openDataSet("/reason");
    // Rows past the last checkpoint (a run killed between a write and its checkpoint) are dropped.
    const hsize_t rows = im->rows;
    for (auto* d : {&im->point, &im->reason}) d->extend(&rows);
    for (auto& d : im->axes) d.extend(&rows);
    for (auto& d : im->metrics) d.extend(&rows);
    return SweepFile(std::move(im));
  } catch (const H5::Exception& e) {
    throw InputError(path + ": --resume refused: not a readable sweep file (" + e.getDetailMsg() +
                     "; killed before its first checkpoint?); run without --resume to start over");
  }
}

void SweepFile::append(const ChunkBuffers& b) {
  try {
    append_rows(b);
  } catch (const H5::Exception& e) {
    throw InputError(impl_->path + ": write failed (" + e.getDetailMsg() + "; disk full?); the file keeps the rows of its last checkpoint");
  }
}

void SweepFile::append_rows(const ChunkBuffers& b) {
  Impl& im = *impl_;
  const hsize_t n = b.rows, old = im.rows;
  if (n == 0) return;
  append_column(im.point, b.point.data(), old, n, H5::PredType::NATIVE_UINT64);
  append_column(im.reason, b.reason.data(), old, n, H5::PredType::NATIVE_INT8);
  for (std::size_t a = 0; a < im.axes.size(); ++a) {
    if (im.axis_is_label[a]) {
      im.labels_buf.resize(n);
      for (hsize_t i = 0; i < n; ++i) im.labels_buf[i] = static_cast<std::uint16_t>(b.axis[a][i]);
      append_column(im.axes[a], im.labels_buf.data(), old, n, H5::PredType::NATIVE_UINT16);
    } else {
      append_column(im.axes[a], b.axis[a].data(), old, n, H5::PredType::NATIVE_DOUBLE);
    }
  }
  for (std::size_t m = 0; m < im.metrics.size(); ++m)
    append_column(im.metrics[m], b.metric[m].data(), old, n, H5::PredType::NATIVE_DOUBLE);
  im.rows += n;
}

void SweepFile::checkpoint(std::uint64_t points_done, bool complete) {
  try {
    write_checkpoint(points_done, complete);
  } catch (const H5::Exception& e) {
    throw InputError(impl_->path + ": write failed (" + e.getDetailMsg() + "; disk full?); the file keeps the rows of its last checkpoint");
  }
}

void SweepFile::write_checkpoint(std::uint64_t points_done, bool complete) {
  Impl& im = *impl_;
  im.points_done = points_done;
  // The rows reach the file before the counters that claim them: one flush may write the
  // attributes before the raw chunks, so a kill inside it could leave counters ahead of the data.
  im.file().flush(H5F_SCOPE_GLOBAL);
  H5::Group root = im.file().openGroup("/");
  put_attr(root, "points_done", points_done);
  put_attr(root, "rows_written", im.rows);
  put_attr(root, "complete", static_cast<std::uint64_t>(complete ? 1 : 0));
  im.file().flush(H5F_SCOPE_GLOBAL);
}

std::uint64_t SweepFile::points_done() const { return impl_->points_done; }
std::uint64_t SweepFile::rows() const { return impl_->rows; }

void SweepFile::close() {
  if (!impl_) return;
  try {
    close_file();
  } catch (const H5::Exception& e) {
    const std::string path = impl_->path;
    impl_.reset();
    throw InputError(path + ": closing failed (" + e.getDetailMsg() + "; disk full?)");
  }
}

void SweepFile::close_file() {
  impl_->axes.clear();
  impl_->metrics.clear();
  impl_->point.close();
  impl_->reason.close();
  impl_->file().close();
  impl_.reset();
}

}  // namespace podperf
