#include "podperf/app/h5_output.hpp"

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

#include "podperf/io/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

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

// The journal being written (the sweep's OUT.part): a header record, then one record per
// checkpoint holding that chunk's rows exactly as they go into the HDF5 file (head rows raw, whole
// chunks packed). Each record ends with a CRC-32 of its bytes, written and then made durable
// (fdatasync) before the next one starts: a SIGKILL at any instant leaves a valid prefix of records
// and at most one torn record, which a resume finds by its CRC and cuts off.
struct SweepFile::Impl {
  int fd = -1;
  std::string path;
  const SweepSpec* spec = nullptr;
  std::uint64_t rows = 0, points_done = 0;
  std::uint64_t end = 0;  // bytes of valid records
  hsize_t chunk = 1;      // rows per HDF5 chunk (every column alike)
  std::vector<std::size_t> elems;                    // per column (point, reason, axes, metrics): bytes per row
  std::vector<unsigned char> pending;                // the record of the rows appended since the last checkpoint
  PackedRows own;                                    // rows that arrive unpacked, packed here
  std::vector<std::vector<unsigned char>> shuffled;  // per OpenMP thread
  std::vector<std::unique_ptr<Deflater>> deflaters;  // per OpenMP thread
  void index_columns();
  void write_record(std::vector<unsigned char>& payload);  // frames, writes at `end`, syncs
};

namespace {
constexpr char kJournalMagic[] = "podperf sweep journal 1";

void put_u64(std::vector<unsigned char>& b, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<unsigned char>(v >> (8 * i)));
}
void put_bytes(std::vector<unsigned char>& b, const void* p, std::size_t n) {
  const auto* c = static_cast<const unsigned char*>(p);
  b.insert(b.end(), c, c + n);
}
void put_str(std::vector<unsigned char>& b, const std::string& s) {
  put_u64(b, s.size());
  put_bytes(b, s.data(), s.size());
}

// Reads a record's fields; any read past its end means the record is not one podperf wrote.
struct Cursor {
  const unsigned char* p;
  std::size_t left;
  bool ok = true;
  std::uint64_t u64() {
    if (left < 8) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    p += 8;
    left -= 8;
    return v;
  }
  const unsigned char* bytes(std::uint64_t n) {
    if (n > left) {
      ok = false;
      return nullptr;
    }
    const unsigned char* r = p;
    p += n;
    left -= static_cast<std::size_t>(n);
    return r;
  }
  std::string str() {
    const std::uint64_t n = u64();
    const unsigned char* b = bytes(n);
    return b ? std::string(reinterpret_cast<const char*>(b), static_cast<std::size_t>(n)) : std::string();
  }
};

bool read_at(int fd, std::uint64_t off, void* buf, std::size_t n) {
  auto* p = static_cast<unsigned char*>(buf);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    off += static_cast<std::uint64_t>(r);
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// The record at `off` (length, payload, CRC-32 of length and payload): false when it is torn, absent
// or damaged.
bool read_record(int fd, std::uint64_t off, std::uint64_t size, std::vector<unsigned char>& payload, std::uint64_t& next) {
  unsigned char head[8];
  if (size - off < 12 || !read_at(fd, off, head, 8)) return false;
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(head[i]) << (8 * i);
  if (n > size - off - 12) return false;
  payload.resize(static_cast<std::size_t>(n) + 4);
  if (!read_at(fd, off + 8, payload.data(), payload.size())) return false;
  std::uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) crc |= static_cast<std::uint32_t>(payload[n + i]) << (8 * i);
  payload.resize(static_cast<std::size_t>(n));
  uLong c = crc32(0L, head, 8);
  c = crc32(c, payload.data(), static_cast<uInt>(n));
  if (static_cast<std::uint32_t>(c) != crc) return false;
  next = off + 12 + n;
  return true;
}

struct JournalHeader {
  std::uint64_t chunk = 1;
  std::string created, spec_text;
  std::vector<std::pair<std::string, std::string>> stamps;
};

bool parse_header(const std::vector<unsigned char>& payload, JournalHeader& h) {
  Cursor c{payload.data(), payload.size()};
  if (c.str() != kJournalMagic) return false;
  h.chunk = c.u64();
  h.created = c.str();
  h.spec_text = c.str();
  const std::uint64_t n = c.u64();
  for (std::uint64_t i = 0; c.ok && i < n && i < 1024; ++i) {
    std::string a = c.str();
    std::string v = c.str();
    h.stamps.emplace_back(std::move(a), std::move(v));
  }
  return c.ok && h.chunk >= 1;
}

std::vector<std::size_t> column_elems(const SweepSpec& spec) {
  std::vector<std::size_t> e = {8, 1};
  for (auto& a : spec.axes) e.push_back(axis_is_text(a.id) ? 2 : 8);
  for (std::size_t m = 0; m < spec.metrics.size(); ++m) e.push_back(8);
  return e;
}

// A rows record: points done, rows, first row, head rows, packed chunks per column, then per column
// the head rows as stored, then per column-chunk task its packed size and bytes.
struct RowsRecord {
  std::uint64_t points_done = 0, rows = 0, first_row = 0, head = 0, chunks = 0;
  std::vector<const unsigned char*> head_bytes;
  std::vector<std::uint64_t> size;
  std::vector<const unsigned char*> data;
};

bool parse_rows(const std::vector<unsigned char>& payload, const std::vector<std::size_t>& elems, std::uint64_t chunk,
                RowsRecord& r) {
  Cursor c{payload.data(), payload.size()};
  r.points_done = c.u64();
  r.rows = c.u64();
  r.first_row = c.u64();
  r.head = c.u64();
  r.chunks = c.u64();
  if (!c.ok || r.head > r.rows || r.head >= chunk || r.chunks > r.rows || r.chunks > payload.size())
    return false;
  r.head_bytes.clear();
  for (std::size_t e : elems) r.head_bytes.push_back(c.bytes(r.head * e));
  r.size.clear();
  r.data.clear();
  for (std::uint64_t t = 0; c.ok && t < r.chunks * elems.size(); ++t) {
    r.size.push_back(c.u64());
    r.data.push_back(c.bytes(r.size.back()));
    if (r.size.back() == 0) return false;
  }
  return c.ok && c.left == 0;
}

std::string sys_error() { return std::strerror(errno); }
}  // namespace

void SweepFile::Impl::write_record(std::vector<unsigned char>& payload) {
  std::vector<unsigned char> rec;
  rec.reserve(payload.size() + 12);
  put_u64(rec, payload.size());
  uLong c = crc32(0L, rec.data(), 8);
  c = crc32(c, payload.data(), static_cast<uInt>(payload.size()));
  put_bytes(rec, payload.data(), payload.size());
  for (int i = 0; i < 4; ++i) rec.push_back(static_cast<unsigned char>(static_cast<std::uint32_t>(c) >> (8 * i)));
  std::size_t done = 0;
  while (done < rec.size()) {
    const ssize_t n = ::pwrite(fd, rec.data() + done, rec.size() - done, static_cast<off_t>(end + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? sys_error() : std::string("no space");
      if (::ftruncate(fd, static_cast<off_t>(end)) != 0) {
      }
      throw InputError(path + ": write failed (" + why + "); the file keeps the rows of its last checkpoint");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    const std::string why = sys_error();
    if (::ftruncate(fd, static_cast<off_t>(end)) != 0) {
    }
    throw InputError(path + ": write failed (" + why + "); the file keeps the rows of its last checkpoint");
  }
  end += rec.size();
}

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
  auto im = std::make_unique<Impl>();
  im->spec = &spec;
  im->path = path;
  im->chunk = std::max<std::uint64_t>(1, std::min<std::uint64_t>(chunk_rows, spec.points()));
  im->fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (im->fd < 0) throw InputError(path + ": cannot create (" + sys_error() + ")");
  im->index_columns();
  std::vector<unsigned char> h;
  put_str(h, kJournalMagic);
  put_u64(h, im->chunk);
  put_str(h, created);
  put_str(h, spec.text);
  put_u64(h, stamps.size());
  for (auto& st : stamps) {
    put_str(h, st.attr);
    put_str(h, st.value);
  }
  im->write_record(h);
  return SweepFile(std::move(im));
}

namespace {
// Scans a journal: its header and the valid records (up to the first torn or damaged one).
struct JournalScan {
  JournalHeader header;
  std::uint64_t end = 0, rows = 0, points_done = 0;
};

bool scan_journal(int fd, const std::vector<std::size_t>& elems, JournalScan& js) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return false;
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  std::vector<unsigned char> payload;
  std::uint64_t next = 0;
  if (!read_record(fd, 0, size, payload, next) || !parse_header(payload, js.header)) return false;
  js.end = next;
  RowsRecord r;
  while (read_record(fd, js.end, size, payload, next) && parse_rows(payload, elems, js.header.chunk, r) &&
         r.first_row == js.rows && r.points_done >= js.points_done) {
    js.rows += r.rows;
    js.points_done = r.points_done;
    js.end = next;
  }
  return true;
}
}  // namespace

SweepFile SweepFile::reopen(const std::string& path, const SweepSpec& spec, const std::vector<SweepStamp>& stamps) {
  // The checks, on a read-only descriptor: nothing is written to a file that is refused.
  JournalScan js;
  {
    const int ro = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (ro < 0) throw InputError(path + ": --resume refused: cannot open (" + sys_error() + ")");
    const bool ok = scan_journal(ro, column_elems(spec), js);
    ::close(ro);
    if (!ok)
      throw InputError(path + ": --resume refused: not a podperf sweep journal (killed before its first checkpoint?); run without --resume to start over");
  }
  if (js.header.spec_text != spec.text)
    throw InputError(path + ": --resume refused: written by another sweep spec; --resume needs the same spec file");
  if (js.points_done > spec.points())
    throw InputError(path + ": --resume refused: holds more points than the spec has; run without --resume to start over");
  for (auto& st : stamps) {
    std::string was = "(none)";
    for (auto& [a, v] : js.header.stamps)
      if (a == st.attr) was = v;
    if (was != st.value)
      throw InputError(path + ": --resume refused: the " + st.what + " changed (file: " + was + ", now: " + st.value +
                       "); run without --resume to start over");
  }
  auto im = std::make_unique<Impl>();
  im->spec = &spec;
  im->path = path;
  im->chunk = js.header.chunk;
  im->rows = js.rows;
  im->points_done = js.points_done;
  im->end = js.end;
  im->fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (im->fd < 0) throw InputError(path + ": cannot open for writing (" + sys_error() + ")");
  im->index_columns();
  // A record torn by a kill is cut off; the valid records stay as they are.
  struct stat st;
  if (::fstat(im->fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > im->end &&
      ::ftruncate(im->fd, static_cast<off_t>(im->end)) != 0)
    throw InputError(path + ": cannot cut off a torn record (" + sys_error() + ")");
  return SweepFile(std::move(im));
}

void SweepFile::append(const ChunkBuffers& b, const PackedRows* packed) { append_rows(b, packed); }

void SweepFile::Impl::index_columns() { elems = column_elems(*spec); }

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
// library's filter pipeline when the file is built. Every whole chunk after them (and a final
// partial one) is shuffled and deflated here, one column-chunk per task.
void SweepFile::prepare_pack(const ChunkBuffers& b, std::uint64_t first_row, PackedRows& out) const {
  const Impl& im = *impl_;
  PackedRows::Impl& p = *out.impl_;
  p.first_row = first_row;
  p.rows = b.rows;
  p.chunk = im.chunk;
  p.head = std::min<std::uint64_t>(b.rows, (im.chunk - first_row % im.chunk) % im.chunk);
  p.chunks = static_cast<std::size_t>((b.rows - p.head + im.chunk - 1) / im.chunk);
  p.ok = true;
  const std::size_t ncol = im.elems.size();
  p.labels.resize(ncol);
  p.src.resize(ncol);
  p.elem.resize(ncol);
  p.data.resize(ncol * p.chunks);
  p.size.assign(ncol * p.chunks, 0);
  for (std::size_t c = 0; c < ncol; ++c) {
    p.elem[c] = im.elems[c];
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

// The rows become the pending record (head rows as stored, then the packed chunks in the file's
// fixed order): the journal's bytes do not depend on which thread packed what.
void SweepFile::append_rows(const ChunkBuffers& b, const PackedRows* packed) {
  static_assert(std::endian::native == std::endian::little, "columns are written as little-endian bytes");
  Impl& im = *impl_;
  if (!im.pending.empty()) throw InputError(im.path + ": rows appended twice without a checkpoint");
  const std::uint64_t n = b.rows, old = im.rows;
  const PackedRows::Impl* p = packed ? packed->impl_.get() : nullptr;
  if (n > 0 && (!p || !p->ok || p->first_row != old || p->rows != n || p->chunk != im.chunk)) {
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
  if (n > 0 && !p->ok) throw InputError(im.path + ": compressing a chunk failed");
  std::vector<unsigned char>& r = im.pending;
  put_u64(r, 0);  // points done: set by the checkpoint
  put_u64(r, n);
  put_u64(r, old);
  put_u64(r, n > 0 ? p->head : 0);
  put_u64(r, n > 0 ? p->chunks : 0);
  if (n > 0) {
    for (std::size_t c = 0; c < im.elems.size(); ++c) put_bytes(r, p->src[c], p->head * im.elems[c]);
    for (std::size_t k = 0; k < p->chunks; ++k)
      for (std::size_t c = 0; c < im.elems.size(); ++c) {
        const std::size_t t = k * im.elems.size() + c;
        put_u64(r, p->size[t]);
        put_bytes(r, p->data[t].data(), p->size[t]);
      }
  }
  im.rows += n;
}

void SweepFile::checkpoint(std::uint64_t points_done, bool) {
  Impl& im = *impl_;
  if (im.pending.empty()) {
    put_u64(im.pending, 0);
    for (std::uint64_t v : {std::uint64_t{0}, im.rows, std::uint64_t{0}, std::uint64_t{0}}) put_u64(im.pending, v);
  }
  for (int i = 0; i < 8; ++i) im.pending[static_cast<std::size_t>(i)] = static_cast<unsigned char>(points_done >> (8 * i));
  try {
    im.write_record(im.pending);
  } catch (...) {
    im.pending.clear();
    throw;
  }
  im.pending.clear();
  im.points_done = points_done;
}

std::uint64_t SweepFile::points_done() const { return impl_->points_done; }
std::uint64_t SweepFile::rows() const { return impl_->rows; }

void SweepFile::close() {
  if (!impl_) return;
  if (impl_->fd >= 0) ::close(impl_->fd);
  impl_.reset();
}

void build_sweep_file(const std::string& journal, const std::string& h5_path, const SweepSpec& spec) {
  const int fd = ::open(journal.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw InputError(journal + ": cannot open (" + sys_error() + ")");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const std::vector<std::size_t> elems = column_elems(spec);
  JournalScan js;
  if (!scan_journal(fd, elems, js) || js.header.spec_text != spec.text || js.points_done != spec.points())
    throw InputError(journal + ": not a complete sweep journal of this spec");
  try {
    H5::Exception::dontPrint();
    H5::H5File file(h5_path, H5F_ACC_TRUNC);
    H5::Group root = file.openGroup("/");
    for (auto& [attr, value] : js.header.stamps) put_attr(root, attr, value);
    put_attr(root, "sweep_id", spec.id);
    put_attr(root, "sweep_description", spec.description);
    put_attr(root, "sweep_spec", spec.text);
    put_attr(root, "created_utc", js.header.created);
    put_attr(root, "points_total", spec.points());
    put_attr(root, "invalid_points", std::string(spec.keep_invalid ? "kept with a reason code" : "skipped"));
    const hsize_t chunk = js.header.chunk;
    std::vector<H5::DataSet> cols;
    std::vector<const H5::PredType*> mem;
    H5::Group axes = make_group(file, "/axes");
    std::vector<H5::DataSet> axis_sets, metric_sets;
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
      axis_sets.push_back(d);
    }
    H5::Group metrics = make_group(file, "/metrics");
    for (auto m : spec.metrics) metric_sets.push_back(make_column(metrics, to_string(m), H5::PredType::IEEE_F64LE, chunk, metric_unit(m)));
    H5::DataSet point = make_column(root, "point", H5::PredType::STD_U64LE, chunk, "index into the Cartesian product (last axis fastest)");
    H5::DataSet reason = make_column(root, "reason", H5::PredType::STD_I8LE, chunk, "code; 0 = ok");
    std::vector<std::string> codes;
    for (auto c : sweep_reason_codes()) codes.push_back(std::to_string(c) + ": " + sweep_reason_text(c));
    put_attr(reason, "codes", codes);
    cols.push_back(point);
    mem.push_back(&H5::PredType::NATIVE_UINT64);
    cols.push_back(reason);
    mem.push_back(&H5::PredType::NATIVE_INT8);
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      cols.push_back(axis_sets[a]);
      mem.push_back(axis_is_text(spec.axes[a].id) ? &H5::PredType::NATIVE_UINT16 : &H5::PredType::NATIVE_DOUBLE);
    }
    for (auto& m : metric_sets) {
      cols.push_back(m);
      mem.push_back(&H5::PredType::NATIVE_DOUBLE);
    }
    // The records in order, as the sweep appended them: head rows through the filter pipeline, the
    // packed chunks as they are.
    struct stat st;
    if (::fstat(fd, &st) != 0) throw InputError(journal + ": cannot read (" + sys_error() + ")");
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    std::vector<unsigned char> payload;
    std::uint64_t off = 0, next = 0, rows = 0;
    read_record(fd, 0, size, payload, next);
    off = next;
    RowsRecord r;
    std::vector<unsigned char> aligned;
    while (off < js.end && read_record(fd, off, size, payload, next) && parse_rows(payload, elems, chunk, r)) {
      off = next;
      if (r.rows == 0) continue;
      const hsize_t total = rows + r.rows;
      for (std::size_t c = 0; c < cols.size(); ++c) {
        cols[c].extend(&total);
        if (r.head > 0) {
          aligned.assign(r.head_bytes[c], r.head_bytes[c] + r.head * elems[c]);
          write_rows(cols[c], aligned.data(), rows, r.head, *mem[c]);
        }
        for (std::size_t k = 0; k < r.chunks; ++k) {
          const hsize_t offset = rows + r.head + k * chunk;
          const std::size_t t = k * cols.size() + c;
          if (H5Dwrite_chunk(cols[c].getId(), H5P_DEFAULT, 0, &offset, r.size[t], r.data[t]) < 0)
            throw H5::DataSetIException("H5Dwrite_chunk", "writing a chunk failed");
        }
      }
      rows = total;
    }
    put_attr(root, "points_done", js.points_done);
    put_attr(root, "rows_written", rows);
    put_attr(root, "complete", std::uint64_t{1});
    for (auto& c : cols) c.close();
    file.close();
  } catch (const H5::Exception& e) {
    throw InputError(h5_path + ": write failed (" + e.getDetailMsg() + "; disk full?); the rows stay in " + journal);
  }
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
