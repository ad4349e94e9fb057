#include "regauth/image/compression.hpp"

#include "regauth/oci/media_types.hpp"

#include "compression_libraries.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace regauth::image {
namespace {

constexpr std::string_view k_docker_prefix = "application/vnd.docker.";
constexpr std::size_t k_out_block = 64U * 1024U;
// Gzip goes in chunks of 1 MiB, each deflated on its own by libdeflate (about twice as fast as
// zlib, and smaller: docs/benchmarks.md), so that chunks can be compressed on several threads
// with the same bytes as on one. libdeflate only writes whole deflate streams, each ending in a
// final block; `join_chunk` turns that final block into a plain one followed by an empty stored
// block (what zlib's Z_SYNC_FLUSH writes), so that the chunks concatenate into one deflate
// stream and one gzip member, the technique of zlib's examples/gzjoin.c. One member matters:
// some decoders (Rust flate2's GzDecoder) stop after the first member of a gzip file.
constexpr std::size_t k_gzip_chunk = 1024U * 1024U;
constexpr int k_raw_window_bits = -15; // raw deflate: no zlib header or trailer
// The empty stored block after a chunk: a 3-bit header (not final, type 00, all zero bits),
// zero bits to the next byte, then LEN 0 and NLEN 0xffff.
constexpr std::array<char, 4> k_stored_lengths = {0, 0, '\xff', '\xff'};
// The header of Go's compress/gzip: no file name, no time stamp, OS "unknown".
constexpr std::array<unsigned char, 10> k_gzip_header = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};

struct FreeCompressor {
  void operator()(libdeflate_compressor* compressor) const {
    libdeflate().free_compressor(compressor);
  }
};
using DeflateCompressor = std::unique_ptr<libdeflate_compressor, FreeCompressor>;

// Makes the deflate stream `chunk` (libdeflate's output for `input`) joinable: inflates it (raw,
// stopping at every block boundary with Z_BLOCK) to find the bit where its final block starts,
// clears that block's BFINAL bit, and appends an empty stored block, which ends the chunk on a
// byte boundary. Checks on the way that `chunk` inflates to `input`; `scratch` holds the
// inflated bytes.
Result<void> join_chunk(std::string_view input, std::string& chunk, std::string& scratch) {
  z_stream stream{};
  if (int status = libz().inflate_init2(&stream, k_raw_window_bits, ZLIB_VERSION,
                                        static_cast<int>(sizeof(z_stream)));
      status != Z_OK) {
    return make_error(ErrorKind::io,
                      "gzip: cannot start zlib's inflate (status " + std::to_string(status) + ")");
  }
  scratch.resize(input.size() + 1); // one byte more, to notice a chunk that inflates too long
  stream.next_in = reinterpret_cast<Bytef*>(chunk.data());
  stream.avail_in = static_cast<uInt>(chunk.size());
  stream.next_out = reinterpret_cast<Bytef*>(scratch.data());
  stream.avail_out = static_cast<uInt>(scratch.size());
  std::uint64_t final_block = 0;  // the bit where the last block seen starts
  std::optional<unsigned> unused; // bits left in the last byte after the final block
  int status = Z_OK;
  while (status == Z_OK) {
    status = libz().inflate(&stream, Z_BLOCK);
    // data_type: bit 7 = stopped at a block boundary, bit 6 = the final block was decoded,
    // bits 0-2 = unused bits of the last byte inflate took. Before the final block, the
    // boundary is where the next block's header starts; after it, where the final block ends
    // (the next call goes to the end of the stream, and skips the unused bits).
    if (status == Z_OK && (stream.data_type & 128) != 0) {
      auto bits = static_cast<unsigned>(stream.data_type & 7);
      if ((stream.data_type & 64) != 0) {
        unused = bits;
      } else {
        final_block = std::uint64_t{stream.total_in} * 8U - bits;
      }
    }
  }
  bool whole = unused && status == Z_STREAM_END && stream.total_in == chunk.size() &&
               stream.total_out == input.size() &&
               std::memcmp(scratch.data(), input.data(), input.size()) == 0;
  libz().inflate_end(&stream);
  if (!whole) {
    return make_error(ErrorKind::io, "gzip: libdeflate's output for a chunk of " +
                                         std::to_string(input.size()) +
                                         " bytes does not inflate back to it (zlib status " +
                                         std::to_string(status) + ")");
  }
  auto& header = chunk[final_block / 8U];
  header = static_cast<char>(static_cast<unsigned char>(header) & ~(1U << (final_block % 8U)));
  // The stored block's 3 header bits (zeros) go into the unused bits of the last byte if they
  // fit, else into a byte of their own; the rest of that byte is padding. Deflate fills bytes
  // from their lowest bit: the unused bits are the high ones, zeroed here whatever they held.
  auto& last_byte = chunk.back();
  last_byte = static_cast<char>(static_cast<unsigned char>(last_byte) & (0xffU >> *unused));
  if (*unused < 3) {
    chunk.push_back('\0');
  }
  chunk.append(k_stored_lengths.data(), k_stored_lengths.size());
  return {};
}

// Gzip on a pipeline: write() cuts the input into chunks and hands them to worker threads,
// which deflate (and join) them while the caller goes on reading, hashing and sending; the
// output is appended in the order of the chunks, so the bytes do not depend on the threads.
class GzipCompressor final : public Compressor {
public:
  GzipCompressor(int level, unsigned threads) : m_level(level), m_threads(std::max(1U, threads)) {}

  ~GzipCompressor() override {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    m_changed.notify_all();
    m_workers.clear(); // joins
  }

  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;
  GzipCompressor(GzipCompressor&&) = delete;
  GzipCompressor& operator=(GzipCompressor&&) = delete;

  Result<void> write(std::string_view input, std::string& output) override {
    start(output);
    m_crc = libdeflate().crc32(m_crc, input.data(), input.size());
    m_total += input.size();
    while (!input.empty()) {
      auto take = std::min(input.size(), k_gzip_chunk - m_pending.size());
      m_pending.append(input.substr(0, take));
      input.remove_prefix(take);
      if (m_pending.size() == k_gzip_chunk) {
        if (auto submitted = submit(false, output); !submitted) {
          return submitted;
        }
      }
    }
    return collect(output, false);
  }

  Result<void> finish(std::string& output) override {
    start(output);
    if (auto submitted = submit(true, output); !submitted) {
      return submitted;
    }
    if (auto collected = collect(output, true); !collected) {
      return collected;
    }
    for (std::uint64_t value : {static_cast<std::uint64_t>(m_crc), m_total}) {
      for (int i = 0; i < 4; ++i) {
        output.push_back(static_cast<char>((value >> (8 * i)) & 0xffU));
      }
    }
    return {};
  }

private:
  struct Chunk {
    std::string input;
    bool last = false;
    bool done = false;
    std::string output;
    std::optional<Error> error;
  };

  // What one thread needs to deflate: its own compressor, output buffer and inflate scratch,
  // kept from chunk to chunk (fresh megabytes each time cost page faults and zero-filling).
  struct Deflater {
    DeflateCompressor compressor;
    std::string buffer;
    std::string scratch;
  };

  void start(std::string& output) {
    if (!m_started) {
      output.append(reinterpret_cast<const char*>(k_gzip_header.data()), k_gzip_header.size());
      m_started = true;
    }
  }

  // Deflates `chunk.input` into `chunk.output`; joinable unless it is the last chunk.
  Result<void> deflate_chunk(Deflater& deflater, Chunk& chunk) const {
    if (!deflater.compressor) {
      deflater.compressor.reset(libdeflate().alloc_compressor(m_level));
      if (!deflater.compressor) {
        return make_error(ErrorKind::io, "gzip: cannot start libdeflate at level " +
                                             std::to_string(m_level) +
                                             " (levels 0 to 12; or out of memory)");
      }
    }
    const auto& input = chunk.input;
    auto& buffer = deflater.buffer;
    auto bound = libdeflate().deflate_compress_bound(deflater.compressor.get(), input.size());
    if (buffer.size() < bound) {
      buffer.resize(bound);
    }
    std::size_t size = libdeflate().deflate_compress(deflater.compressor.get(), input.data(),
                                                     input.size(), buffer.data(), buffer.size());
    if (size == 0) {
      return make_error(ErrorKind::io, "gzip: libdeflate failed on a chunk of " +
                                           std::to_string(input.size()) + " bytes");
    }
    auto& output = chunk.output;
    output.assign(buffer.data(), size);
    if (chunk.last) {
      return {};
    }
    return join_chunk(input, output, deflater.scratch);
  }

  void run(Deflater& deflater, Chunk& chunk) const {
    if (auto done = deflate_chunk(deflater, chunk); !done) {
      chunk.error = done.error();
    }
  }

  // Hands m_pending over as a chunk: to the workers, or deflated here with one thread.
  Result<void> submit(bool last, std::string& output) {
    std::shared_ptr<Chunk> chunk;
    {
      std::lock_guard lock(m_mutex);
      if (!m_free.empty()) {
        chunk = std::move(m_free.back());
        m_free.pop_back();
      }
    }
    if (!chunk) {
      chunk = std::make_shared<Chunk>();
    }
    // The chunk's input buffer becomes the next m_pending: the same megabyte goes round.
    std::swap(chunk->input, m_pending);
    m_pending.clear();
    m_pending.reserve(k_gzip_chunk);
    chunk->last = last;
    chunk->done = false;
    chunk->error.reset();
    if (m_threads == 1) {
      run(m_own, *chunk);
      if (chunk->error) {
        return *chunk->error;
      }
      output.append(chunk->output);
      m_free.push_back(std::move(chunk));
      return {};
    }
    if (m_workers.empty()) {
      for (unsigned i = 0; i < m_threads; ++i) {
        m_workers.emplace_back([this] { work(); });
      }
    }
    {
      std::lock_guard lock(m_mutex);
      m_queue.push_back(chunk);
      m_order.push_back(chunk);
    }
    m_changed.notify_all();
    // At most two chunks per thread in flight: the caller waits for the oldest beyond that.
    return collect(output, false, 2U * m_threads);
  }

  void work() {
    Deflater deflater;
    std::unique_lock lock(m_mutex);
    while (true) {
      m_changed.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
      if (m_stopping) {
        return;
      }
      auto chunk = m_queue.front();
      m_queue.pop_front();
      lock.unlock();
      run(deflater, *chunk);
      lock.lock();
      chunk->done = true;
      m_changed.notify_all();
    }
  }

  // Appends the finished chunks at the head of the order to `output`; waits for them while
  // more than `in_flight` are pending, or for all of them with `all`.
  Result<void> collect(std::string& output, bool all, std::size_t in_flight = SIZE_MAX) {
    std::unique_lock lock(m_mutex);
    while (!m_order.empty()) {
      auto chunk = m_order.front();
      if (!chunk->done) {
        if (!all && m_order.size() <= in_flight) {
          return {};
        }
        m_changed.wait(lock, [&] { return chunk->done; });
      }
      m_order.pop_front();
      if (chunk->error) {
        return *chunk->error;
      }
      lock.unlock();
      output.append(chunk->output);
      lock.lock();
      m_free.push_back(std::move(chunk));
    }
    return {};
  }

  int m_level;
  unsigned m_threads;
  bool m_started = false;
  std::uint32_t m_crc = 0;
  std::uint64_t m_total = 0;
  std::string m_pending;
  Deflater m_own; // with one thread
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<std::shared_ptr<Chunk>> m_queue; // waiting for a worker
  std::deque<std::shared_ptr<Chunk>> m_order; // every chunk not yet appended, in order
  std::vector<std::shared_ptr<Chunk>> m_free; // appended chunks, to be used again
  bool m_stopping = false;
  std::vector<std::jthread> m_workers; // last: joined first
};

class ZstdCompressor final : public Compressor {
public:
  ZstdCompressor() : m_context(libzstd().create_cctx()) {}
  ~ZstdCompressor() override {
    if (m_context != nullptr) {
      libzstd().free_cctx(m_context);
    }
  }
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;
  ZstdCompressor(ZstdCompressor&&) = delete;
  ZstdCompressor& operator=(ZstdCompressor&&) = delete;

  Result<void> start(int level) {
    if (m_context == nullptr) {
      return make_error(ErrorKind::io, "zstd: cannot start a compressor (out of memory)");
    }
    if (auto code = libzstd().cctx_set_parameter(m_context, ZSTD_c_compressionLevel, level);
        libzstd().is_error(code) != 0U) {
      return failure(code);
    }
    // A checksum in every frame, as Go's zstd writer (klauspost) adds by default.
    if (auto code = libzstd().cctx_set_parameter(m_context, ZSTD_c_checksumFlag, 1);
        libzstd().is_error(code) != 0U) {
      return failure(code);
    }
    return {};
  }

  Result<void> write(std::string_view input, std::string& output) override {
    return run(input, ZSTD_e_continue, output);
  }
  Result<void> finish(std::string& output) override { return run({}, ZSTD_e_end, output); }

private:
  Error failure(std::size_t code) const {
    const char* name = libzstd().get_error_name(code);
    return make_error(ErrorKind::io, std::string("zstd: ") + (name != nullptr ? name : "error"));
  }

  Result<void> run(std::string_view input, ZSTD_EndDirective directive, std::string& output) {
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    while (true) {
      std::size_t before = output.size();
      output.resize(before + k_out_block);
      ZSTD_outBuffer out{output.data() + before, k_out_block, 0};
      std::size_t left = libzstd().compress_stream2(m_context, &out, &in, directive);
      output.resize(before + out.pos);
      if (libzstd().is_error(left) != 0U) {
        return failure(left);
      }
      bool done = directive == ZSTD_e_end ? left == 0 : in.pos == in.size && out.pos < k_out_block;
      if (done) {
        return {};
      }
    }
  }

  ZSTD_CCtx* m_context;
};

class CompressingReader final : public BlobReader {
public:
  CompressingReader(std::unique_ptr<BlobReader> inner, std::unique_ptr<Compressor> compressor)
      : m_inner(std::move(inner)), m_compressor(std::move(compressor)) {}

  Result<std::size_t> read(char* buffer, std::size_t size) override {
    while (m_offset == m_pending.size() && !m_finished) {
      m_pending.clear();
      m_offset = 0;
      auto got = m_inner->read(m_input.data(), m_input.size());
      if (!got) {
        return got.error();
      }
      auto written = *got == 0
                         ? m_compressor->finish(m_pending)
                         : m_compressor->write(std::string_view(m_input.data(), *got), m_pending);
      if (!written) {
        return written.error();
      }
      m_finished = *got == 0;
    }
    auto n = std::min(size, m_pending.size() - m_offset);
    std::memcpy(buffer, m_pending.data() + m_offset, n);
    m_offset += n;
    return n;
  }

private:
  std::unique_ptr<BlobReader> m_inner;
  std::unique_ptr<Compressor> m_compressor;
  std::array<char, 256U * 1024U> m_input{};
  std::string m_pending;
  std::size_t m_offset = 0;
  bool m_finished = false;
};

} // namespace

Result<Compression> parse_compression(std::string_view text) {
  if (text == "gzip") {
    return Compression::gzip;
  }
  if (text == "zstd") {
    return Compression::zstd;
  }
  if (text == "none") {
    return Compression::none;
  }
  return make_error(ErrorKind::usage,
                    "--compression \"" + std::string(text) + "\": expected gzip, zstd or none");
}

std::string_view to_string(Compression compression) {
  switch (compression) {
  case Compression::gzip:
    return "gzip";
  case Compression::zstd:
    return "zstd";
  case Compression::none:
    break;
  }
  return "none";
}

int default_level(Compression compression) {
  switch (compression) {
  case Compression::gzip:
    return 2;
  case Compression::zstd:
    return 3;
  case Compression::none:
    break;
  }
  return 0;
}

bool is_uncompressed_layer(std::string_view media_type) {
  return media_type == oci::k_layer_tar || media_type == oci::k_docker_layer_tar;
}

bool is_docker_media_type(std::string_view media_type) {
  return media_type.substr(0, k_docker_prefix.size()) == k_docker_prefix;
}

std::string compressed_layer_type(std::string_view uncompressed_type, Compression compression) {
  if (uncompressed_type == oci::k_layer_tar) {
    if (compression == Compression::gzip) {
      return std::string(oci::k_layer_gzip);
    }
    if (compression == Compression::zstd) {
      return std::string(oci::k_layer_zstd);
    }
  }
  if (uncompressed_type == oci::k_docker_layer_tar && compression == Compression::gzip) {
    return std::string(oci::k_docker_layer_gzip);
  }
  return "";
}

Result<std::unique_ptr<Compressor>> make_compressor(Compression compression, int level,
                                                    unsigned threads) {
  if (compression == Compression::gzip) {
    if (auto error = libdeflate_load_error()) {
      return make_error(ErrorKind::io, "gzip: " + *error);
    }
    return std::unique_ptr<Compressor>(std::make_unique<GzipCompressor>(level, threads));
  }
  if (compression == Compression::zstd) {
    auto compressor = std::make_unique<ZstdCompressor>();
    if (auto started = compressor->start(level); !started) {
      return started.error();
    }
    return std::unique_ptr<Compressor>(std::move(compressor));
  }
  return make_error(ErrorKind::usage, "no compressor for --compression none");
}

std::string compressor_version(Compression compression) {
  if (compression == Compression::gzip) {
    // Not loadable: make_compressor reports why, and no cache entry carries this key.
    return libdeflate_load_error() ? "libdeflate unavailable"
                                   : "libdeflate " + libdeflate_version();
  }
  if (compression == Compression::zstd) {
    return std::string("zstd ") + libzstd().version_string();
  }
  return "none";
}

std::vector<std::pair<std::string, std::string>> compression_library_versions() {
  auto deflate = libdeflate_load_error();
  return {
      {"zlib", libz().version()},
      {"libdeflate", deflate ? "unavailable: " + *deflate : libdeflate_version()},
      {"libzstd", libzstd().version_string()},
  };
}

std::unique_ptr<BlobReader> make_compressing_reader(std::unique_ptr<BlobReader> inner,
                                                    std::unique_ptr<Compressor> compressor) {
  return std::make_unique<CompressingReader>(std::move(inner), std::move(compressor));
}

} // namespace regauth::image
