#include "podperf/h5_output.hpp"

#include <H5Cpp.h>
#include <zlib.h>

#include <omp.h>

#include <bit>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <cstring>
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
void write_rows(H5::DataSet& d, const T* data, hsize_t old_rows, hsize_t n, const H5::PredType& mem) {
  if (n == 0) return;
  H5::DataSpace file = d.getSpace();
  file.selectHyperslab(H5S_SELECT_SET, &n, &old_rows);
  H5::DataSpace memspace(1, &n);
  d.write(data, mem, memspace, file);
}

// A zlib deflate stream per thread, reset for each chunk: the same bytes as compress2 (H5Zdeflate.c
// calls compress2, which is deflateInit at the level, deflate to the end, deflateEnd) without
// allocating and clearing zlib's tables for every chunk.
struct Deflater {
  z_stream z{};
  bool ready = false;
  Deflater() = default;
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  ~Deflater() {
    if (ready) deflateEnd(&z);
  }
  // Compresses `in` into `out` (resized to deflateBound); returns the compressed size, 0 on failure.
  std::size_t run(const unsigned char* in, std::size_t n, std::vector<unsigned char>& out, int level) {
    if (!ready) {
      if (deflateInit(&z, level) != Z_OK) return 0;
      ready = true;
    } else if (deflateReset(&z) != Z_OK) {
      return 0;
    }
    const std::size_t bound = deflateBound(&z, static_cast<uLong>(n));
    if (out.size() < bound) out.resize(bound);
    z.next_in = const_cast<Bytef*>(in);
    z.avail_in = static_cast<uInt>(n);
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    return deflate(&z, Z_FINISH) == Z_STREAM_END ? static_cast<std::size_t>(z.total_out) : 0;
  }
};

// The shuffle filter (H5Zshuffle.c): byte j of element i goes to j * n + i.
template <std::size_t E>
void shuffle_rows(const unsigned char* rows, std::size_t n, std::size_t chunk_rows, unsigned char* out) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < E; ++j) out[j * chunk_rows + i] = rows[i * E + j];
}

// One HDF5 chunk of one column, filtered as the dataset's pipeline does (shuffle, then deflate at
// level 1). Rows past `n` (an edge chunk) hold zeros, the default fill value; the pipeline filters
// the whole chunk, so does this.
std::size_t pack_chunk(const unsigned char* rows, std::size_t n, std::size_t elem, std::size_t chunk_rows,
                       std::vector<unsigned char>& shuffled, Deflater& z, std::vector<unsigned char>& packed) {
  const std::size_t bytes = chunk_rows * elem;
  if (shuffled.size() < bytes) shuffled.resize(bytes);
  unsigned char* out = shuffled.data();
  if (n < chunk_rows) std::memset(out, 0, bytes);
  if (elem == 8) shuffle_rows<8>(rows, n, chunk_rows, out);
  else if (elem == 2) shuffle_rows<2>(rows, n, chunk_rows, out);
  else std::memcpy(out, rows, n);  // one-byte elements: the filter leaves them as they are
  return z.run(out, bytes, packed, 1);
}
}  // namespace

// A chunk's rows packed for the file: per column, the rows before the first chunk boundary (`head`,
// written through the filter pipeline) and whole chunks shuffled and deflated, task t = k x columns + c.
struct PackedRows::Impl {
  std::uint64_t first_row = 0, rows = 0, chunk = 1, head = 0;
  std::size_t chunks = 0;
  bool ok = false;
  std::vector<const unsigned char*> src;           // per column: its rows as the file stores them
  std::vector<std::size_t> elem;                   // per column: bytes per element
  std::vector<std::vector<std::uint16_t>> labels;  // per column: label indices as uint16
  std::vector<std::vector<unsigned char>> data;    // per task: the packed chunk
  std::vector<std::size_t> size;                   // per task: its bytes (0: failed)
  std::vector<unsigned char> shuffled;             // scratch of the thread that packs
  Deflater z;
  void pack_task(std::size_t t, std::vector<unsigned char>& shuffled_buf, Deflater& zs);
};
PackedRows::PackedRows() : impl_(std::make_unique<Impl>()) {}
PackedRows::~PackedRows() = default;
PackedRows::PackedRows(PackedRows&&) noexcept = default;

struct SweepFile::Impl {
  std::unique_ptr<H5::H5File> file_ptr;
  H5::H5File& file() { return *file_ptr; }
  const SweepSpec* spec = nullptr;
  H5::DataSet point, reason;
  std::vector<H5::DataSet> axes, metrics;
  std::vector<bool> axis_is_label;
  std::uint64_t rows = 0, points_done = 0;
  hsize_t chunk = 1;  // rows per HDF5 chunk (every column alike)
  std::string path;
  // Columns in file order (point, reason, axes, metrics), with their element sizes in the file.
  struct Column {
    H5::DataSet* d = nullptr;
    const H5::PredType* mem = nullptr;
    std::size_t elem = 0;
  };
  std::vector<Column> columns;
  PackedRows own;                                      // rows that arrive unpacked, packed here
  std::vector<std::vector<unsigned char>> shuffled;  // per OpenMP thread
  std::vector<std::unique_ptr<Deflater>> deflaters;  // per OpenMP thread
  void index_columns();  // after the datasets are open
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
      if (a.id == AxisId::batch)
        put_attr(d, "meaning", std::string("decode: concurrent sequences per chip of the instance (x instance chips / TP = "
                                           "sequences per instance); prefill: prompts per chip likewise; train: sequences per "
                                           "data-parallel replica per step. Without a batch axis a TPOT target picks the "
                                           "decode batch and training takes the scenario's default global batch"));
      if (a.id == AxisId::tpot_ms)
        put_attr(d, "meaning", std::string("TPOT target: picks the largest decode batch that meets it (with a batch axis, "
                                           "points that miss it carry reason 'no batch meets the TPOT target')"));
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
    im->index_columns();
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
    im->index_columns();
    return SweepFile(std::move(im));
  } catch (const H5::Exception& e) {
    throw InputError(path + ": --resume refused: not a readable sweep file (" + e.getDetailMsg() +
                     "; killed before its first checkpoint?); run without --resume to start over");
  }
}

void SweepFile::append(const ChunkBuffers& b, const PackedRows* packed) {
  try {
    append_rows(b, packed);
  } catch (const H5::Exception& e) {
    throw InputError(impl_->path + ": write failed (" + e.getDetailMsg() + "; disk full?); the file keeps the rows of its last checkpoint");
  }
}

void SweepFile::Impl::index_columns() {
  columns.clear();
  auto add = [&](H5::DataSet& d, const H5::PredType& mem, std::size_t elem) {
    Column c;
    c.d = &d;
    c.mem = &mem;
    c.elem = elem;
    columns.push_back(std::move(c));
  };
  add(point, H5::PredType::NATIVE_UINT64, 8);
  add(reason, H5::PredType::NATIVE_INT8, 1);
  for (std::size_t a = 0; a < axes.size(); ++a)
    add(axes[a], axis_is_label[a] ? H5::PredType::NATIVE_UINT16 : H5::PredType::NATIVE_DOUBLE, axis_is_label[a] ? 2 : 8);
  for (auto& m : metrics) add(m, H5::PredType::NATIVE_DOUBLE, 8);
  const H5::DSetCreatPropList plist = point.getCreatePlist();
  plist.getChunk(1, &chunk);
}

namespace {
// Column c of a chunk as the file stores it: label indices become uint16 in `labels`.
const unsigned char* column_rows(const ChunkBuffers& b, std::size_t c, std::size_t elem, std::vector<std::uint16_t>& labels) {
  const std::size_t naxes = b.axis.size();
  if (c == 0) return reinterpret_cast<const unsigned char*>(b.point.data());
  if (c == 1) return reinterpret_cast<const unsigned char*>(b.reason.data());
  if (c < 2 + naxes) {
    const std::vector<double>& v = b.axis[c - 2];
    if (elem != 2) return reinterpret_cast<const unsigned char*>(v.data());
    labels.resize(b.rows);
    for (std::size_t i = 0; i < b.rows; ++i) labels[i] = static_cast<std::uint16_t>(v[i]);
    return reinterpret_cast<const unsigned char*>(labels.data());
  }
  return reinterpret_cast<const unsigned char*>(b.metric[c - 2 - naxes].data());
}
}  // namespace

// Rows up to the next chunk boundary share a chunk already in the file: they go through the
// library's filter pipeline when written. Every whole chunk after them (and a final partial one) is
// shuffled and deflated here, one column-chunk per task.
void SweepFile::prepare_pack(const ChunkBuffers& b, std::uint64_t first_row, PackedRows& out) const {
  const Impl& im = *impl_;
  PackedRows::Impl& p = *out.impl_;
  p.first_row = first_row;
  p.rows = b.rows;
  p.chunk = im.chunk;
  p.head = std::min<std::uint64_t>(b.rows, (im.chunk - first_row % im.chunk) % im.chunk);
  p.chunks = static_cast<std::size_t>((b.rows - p.head + im.chunk - 1) / im.chunk);
  p.ok = true;
  const std::size_t ncol = im.columns.size();
  p.labels.resize(ncol);
  p.src.resize(ncol);
  p.elem.resize(ncol);
  p.data.resize(ncol * p.chunks);
  p.size.assign(ncol * p.chunks, 0);
  for (std::size_t c = 0; c < ncol; ++c) {
    p.elem[c] = im.columns[c].elem;
    p.src[c] = column_rows(b, c, p.elem[c], p.labels[c]);
  }
}

void PackedRows::Impl::pack_task(std::size_t t, std::vector<unsigned char>& shuffled_buf, Deflater& z) {
  const std::size_t ncol = src.size(), c = t % ncol, k = t / ncol;
  const std::uint64_t first = head + k * chunk;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, rows - first));
  size[t] = pack_chunk(src[c] + first * elem[c], n, elem[c], static_cast<std::size_t>(chunk), shuffled_buf, z, data[t]);
}

void SweepFile::pack(const ChunkBuffers& b, std::uint64_t first_row, PackedRows& out) const {
  prepare_pack(b, first_row, out);
  PackedRows::Impl& p = *out.impl_;
  for (std::size_t t = 0; t < p.data.size(); ++t) p.pack_task(t, p.shuffled, p.z);
  for (std::size_t v : p.size) p.ok = p.ok && v > 0;
}

// Writes the rows in the file's fixed order (head rows through the pipeline, then the packed
// chunks with H5Dwrite_chunk): the file's bytes do not depend on which thread packed what.
void SweepFile::append_rows(const ChunkBuffers& b, const PackedRows* packed) {
  static_assert(std::endian::native == std::endian::little, "columns are written as little-endian bytes");
  Impl& im = *impl_;
  const hsize_t n = b.rows, old = im.rows;
  if (n == 0) return;
  const PackedRows::Impl* p = packed ? packed->impl_.get() : nullptr;
  if (!p || !p->ok || p->first_row != old || p->rows != n || p->chunk != im.chunk) {
    // Not packed (or packed for other rows): packed here by the OpenMP threads.
    prepare_pack(b, old, im.own);
    PackedRows::Impl& q = *im.own.impl_;
    const std::size_t threads = static_cast<std::size_t>(omp_get_max_threads());
    im.shuffled.resize(std::max(im.shuffled.size(), threads));
    while (im.deflaters.size() < threads) im.deflaters.push_back(std::make_unique<Deflater>());
    const int tasks = static_cast<int>(q.data.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < tasks; ++t) {
      const std::size_t me = static_cast<std::size_t>(omp_get_thread_num());
      q.pack_task(static_cast<std::size_t>(t), im.shuffled[me], *im.deflaters[me]);
    }
    for (std::size_t v : q.size) q.ok = q.ok && v > 0;
    p = &q;
  }
  if (!p->ok) throw H5::DataSetIException("append", "compressing a chunk failed");
  const hsize_t total = old + n;
  for (std::size_t c = 0; c < im.columns.size(); ++c) {
    const Impl::Column& col = im.columns[c];
    col.d->extend(&total);
    write_rows(*col.d, p->src[c], old, p->head, *col.mem);
    for (std::size_t k = 0; k < p->chunks; ++k) {
      const hsize_t offset = old + p->head + k * im.chunk;
      const std::size_t t = k * im.columns.size() + c;
      if (H5Dwrite_chunk(col.d->getId(), H5P_DEFAULT, 0, &offset, p->size[t], p->data[t].data()) < 0)
        throw H5::DataSetIException("H5Dwrite_chunk", "writing a chunk failed");
    }
  }
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
  impl_->columns.clear();
  impl_->axes.clear();
  impl_->metrics.clear();
  impl_->point.close();
  impl_->reason.close();
  impl_->file().close();
  impl_.reset();
}

void write_sweep(const SweepSpec& spec, SweepFile& file, std::uint64_t from, std::uint64_t total, std::uint64_t chunk,
                 int workers, const ChunkProducer& produce,
                 const std::function<bool(const ChunkBuffers& rows, std::uint64_t done)>& after) {
  if (from >= total) return;
  chunk = std::max<std::uint64_t>(1, chunk);
  const std::uint64_t chunks = (total - from + chunk - 1) / chunk;
  // With every point kept, chunk c starts at row rows0 + c x chunk: workers pack their rows.
  const std::uint64_t rows0 = file.rows();
  const bool pack_ahead = spec.keep_invalid;
  if (workers <= 1) {
    // One thread: produce, pack and write in turn on the calling thread.
    ChunkBuffers rows;
    rows.reserve(spec, static_cast<std::size_t>(std::min(chunk, total - from)));
    PackedRows packed;
    const int outer = omp_get_max_threads();
    omp_set_num_threads(1);
    try {
      for (std::uint64_t c = 0; c < chunks; ++c) {
        const std::uint64_t at = from + c * chunk;
        rows.skipped.fill(0);
        produce(at, std::min(chunk, total - at), rows);
        if (pack_ahead) file.pack(rows, rows0 + c * chunk, packed);
        file.append(rows, pack_ahead ? &packed : nullptr);
        if (!after(rows, std::min(total, at + chunk))) break;
      }
    } catch (...) {
      omp_set_num_threads(outer);
      throw;
    }
    omp_set_num_threads(outer);
    return;
  }
  // Two slots per worker: a worker that finishes a chunk ahead of the one being written takes a
  // free slot and goes on, instead of waiting for its chunk to be written.
  struct Slot {
    ChunkBuffers rows;
    PackedRows packed;
    std::uint64_t c = 0;
    bool busy = false;   // held by a worker or waiting to be written
    bool ready = false;  // produced and packed, waiting to be written
  };
  const std::size_t nw = static_cast<std::size_t>(std::max(1, workers));
  std::vector<Slot> slots(2 * nw);
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t next = 0;
  bool stop = false;
  std::exception_ptr failed;
  auto work = [&](std::size_t) {
    omp_set_num_threads(1);  // a chunk per thread: no team inside
    for (;;) {
      std::uint64_t c = 0;
      Slot* s = nullptr;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] {
          if (stop || next >= chunks) return true;
          for (auto& x : slots)
            if (!x.busy) s = &x;
          return s != nullptr;
        });
        if (stop || next >= chunks) return;
        c = next++;
        s->busy = true;
      }
      try {
        const std::uint64_t at = from + c * chunk;
        if (s->rows.kept.empty()) s->rows.reserve(spec, static_cast<std::size_t>(std::min(chunk, total - from)));
        s->rows.skipped.fill(0);
        produce(at, std::min(chunk, total - at), s->rows);
        if (pack_ahead) file.pack(s->rows, rows0 + c * chunk, s->packed);
      } catch (...) {
        std::lock_guard lk(mu);
        if (!failed) failed = std::current_exception();
        stop = true;
        cv.notify_all();
        return;
      }
      {
        std::lock_guard lk(mu);
        s->c = c;
        s->ready = true;
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < nw; ++w) threads.emplace_back(work, w);
  auto finish = [&] {
    {
      std::lock_guard lk(mu);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
  };
  try {
    for (std::uint64_t c = 0; c < chunks; ++c) {
      Slot* s = nullptr;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] {
          if (failed) return true;
          for (auto& x : slots)
            if (x.ready && x.c == c) s = &x;
          return s != nullptr;
        });
        if (failed) break;
      }
      file.append(s->rows, pack_ahead ? &s->packed : nullptr);
      const bool go = after(s->rows, std::min(total, from + (c + 1) * chunk));
      {
        std::lock_guard lk(mu);
        s->ready = false;
        s->busy = false;
      }
      cv.notify_all();
      if (!go) break;
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace podperf
