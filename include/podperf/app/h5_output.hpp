// The sweep's HDF5 file (layout in docs/hdf5-layout.md): one chunked, compressed dataset per axis,
// metric, reason code and point index, units and label tables as attributes, and root attributes
// that trace the file (podperf version, git revision, hwdb hash, the full spec text, creation time,
// progress). Rows are appended chunk by chunk to a journal that survives a kill at any instant; the
// HDF5 file is built from the complete journal.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "podperf/app/sweep.hpp"

namespace podperf {

// A chunk's rows packed for a SweepFile ahead of writing (SweepFile::pack): every column's whole HDF5
// chunks shuffled and deflated as the file's filters do. Buffers are reused from one chunk to the next.
class PackedRows {
 public:
  PackedRows();
  ~PackedRows();
  PackedRows(PackedRows&&) noexcept;

 private:
  friend class SweepFile;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class SweepFile {
 public:
  // The sweep's journal (docs/hdf5-layout.md): a new one at `path` (truncated), stamped with the
  // inputs of the run. Each checkpoint appends one record and makes it durable; the HDF5 file is
  // built from a complete journal by build_sweep_file.
  static SweepFile create(const std::string& path, const SweepSpec& spec, const std::vector<SweepStamp>& stamps,
                          const std::string& created_utc, std::uint64_t chunk_rows);
  // An existing journal written by the same spec and the same inputs (every stamp equal): appending
  // continues after its last valid record (a record torn by a kill is cut off). Every check runs on
  // a read-only descriptor first, so a refused resume leaves the file as it was.
  static SweepFile reopen(const std::string& path, const SweepSpec& spec, const std::vector<SweepStamp>& stamps);
  SweepFile(SweepFile&&) noexcept;
  ~SweepFile();

  // Packs `rows` as rows first_row, first_row + 1, ... of the file, on the calling thread only;
  // touches no HDF5 state, so worker threads may pack while the file is written.
  void pack(const ChunkBuffers& rows, std::uint64_t first_row, PackedRows& out) const;
  // Appends the rows, with their packed chunks when `packed` holds them for the file's next row
  // (else they are packed here by the OpenMP threads); they reach the file with the next checkpoint.
  void append(const ChunkBuffers& rows, const PackedRows* packed = nullptr);
  // Writes the rows appended since the last checkpoint with the points evaluated so far, and makes
  // them durable. Write failures (a full disk) become InputError; the earlier records stay valid.
  void checkpoint(std::uint64_t points_done, bool complete);
  std::uint64_t points_done() const;
  std::uint64_t rows() const;
  void close();

 private:
  struct Impl;
  explicit SweepFile(std::unique_ptr<Impl> impl);
  void append_rows(const ChunkBuffers& rows, const PackedRows* packed);
  void prepare_pack(const ChunkBuffers& rows, std::uint64_t first_row, PackedRows& out) const;
  std::unique_ptr<Impl> impl_;
};

// Builds the sweep's HDF5 file at `h5_path` from a complete journal of `spec` (InputError otherwise):
// the same bytes whatever kills and resumes the journal went through.
void build_sweep_file(const std::string& journal, const std::string& h5_path, const SweepSpec& spec);

// Evaluates points [from, total) in chunks of `chunk` points and appends them to `file` in point
// order. `workers` threads each take whole chunks (evaluate with `produce`, pack), so that they meet
// only to hand a chunk over (one worker: everything on the calling thread); the calling thread writes
// the chunks and then calls `after(rows, done)`
// (done: points evaluated so far), which checkpoints and returns false to stop after that chunk. The
// file's bytes do not depend on `workers`. `produce(first, count, rows)` fills a chunk
// (evaluate_chunk; the benchmark's write-only floor copies stored chunks instead).
using ChunkProducer = std::function<void(std::uint64_t first, std::uint64_t count, ChunkBuffers& rows)>;
void write_sweep(const SweepSpec& spec, SweepFile& file, std::uint64_t from, std::uint64_t total, std::uint64_t chunk,
                 int workers, const ChunkProducer& produce,
                 const std::function<bool(const ChunkBuffers& rows, std::uint64_t done)>& after);

}  // namespace podperf
