#include "regauth/image/compression.hpp"

#include "regauth/oci/media_types.hpp"

#include "compression_libraries.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

namespace regauth::image {
namespace {

constexpr std::string_view k_docker_prefix = "application/vnd.docker.";
constexpr std::size_t k_out_block = 64U * 1024U;
// Gzip goes in chunks of 1 MiB, as pigz and Go's pgzip do: each chunk is raw deflate primed
// with the 32 KiB of input before it (deflate's whole window, so the ratio barely changes) and
// ends with a sync flush, so the chunks concatenate into one deflate stream and one gzip
// member, and chunks can be compressed on several threads with the same bytes as on one.
constexpr std::size_t k_gzip_chunk = 1024U * 1024U;
constexpr std::size_t k_window = 32U * 1024U;
constexpr int k_raw_window_bits = -15; // raw deflate: no zlib header or trailer
constexpr int k_mem_level = 8;
// The header of Go's compress/gzip: no file name, no time stamp, OS "unknown".
constexpr std::array<unsigned char, 10> k_gzip_header = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};

// Appends `input` deflated, primed with `dictionary`, to `output`: a sync flush at the end, or
// the final block when `last`.
Result<void> deflate_chunk(int level, std::string_view dictionary, std::string_view input,
                           bool last, std::string& output) {
  z_stream stream{};
  int status =
      libz().deflate_init2(&stream, level, Z_DEFLATED, k_raw_window_bits, k_mem_level,
                           Z_DEFAULT_STRATEGY, ZLIB_VERSION, static_cast<int>(sizeof(z_stream)));
  if (status != Z_OK) {
    return make_error(ErrorKind::io, "gzip: cannot start zlib's compressor (status " +
                                         std::to_string(status) + ")");
  }
  if (!dictionary.empty()) {
    libz().deflate_set_dictionary(&stream, reinterpret_cast<const Bytef*>(dictionary.data()),
                                  static_cast<uInt>(dictionary.size()));
  }
  // zlib takes a non-const pointer but never writes through next_in.
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  int flush = last ? Z_FINISH : Z_SYNC_FLUSH;
  while (true) {
    std::size_t before = output.size();
    output.resize(before + k_out_block);
    stream.next_out = reinterpret_cast<Bytef*>(output.data() + before);
    stream.avail_out = static_cast<uInt>(k_out_block);
    status = libz().deflate(&stream, flush);
    output.resize(before + k_out_block - stream.avail_out);
    if (status == Z_STREAM_END ||
        (!last && stream.avail_out != 0 && (status == Z_OK || status == Z_BUF_ERROR))) {
      break;
    }
    if (status != Z_OK && status != Z_BUF_ERROR) {
      libz().deflate_end(&stream);
      return make_error(ErrorKind::io, "gzip: zlib failed (status " + std::to_string(status) + ")");
    }
  }
  libz().deflate_end(&stream);
  return {};
}

class GzipCompressor final : public Compressor {
public:
  GzipCompressor(int level, unsigned threads) : m_level(level), m_threads(std::max(1U, threads)) {}

  Result<void> write(std::string_view input, std::string& output) override {
    m_crc = libz().crc32(m_crc, reinterpret_cast<const Bytef*>(input.data()),
                         static_cast<uInt>(input.size()));
    m_total += input.size();
    m_pending.append(input);
    if (m_pending.size() >= k_gzip_chunk * m_threads) {
      return flush_chunks(output, false);
    }
    return {};
  }

  Result<void> finish(std::string& output) override {
    if (auto flushed = flush_chunks(output, true); !flushed) {
      return flushed;
    }
    for (std::uint64_t value : {static_cast<std::uint64_t>(m_crc), m_total}) {
      for (int i = 0; i < 4; ++i) {
        output.push_back(static_cast<char>((value >> (8 * i)) & 0xffU));
      }
    }
    return {};
  }

private:
  // Compresses every whole chunk of m_pending (and with `last`, the rest as the final one),
  // on up to m_threads threads; keeps what is left for the next call.
  Result<void> flush_chunks(std::string& output, bool last) {
    if (!m_started) {
      output.append(reinterpret_cast<const char*>(k_gzip_header.data()), k_gzip_header.size());
      m_started = true;
    }
    std::size_t whole = m_pending.size() / k_gzip_chunk;
    std::size_t count = last ? whole + 1 : whole;
    std::vector<std::string> parts(count);
    std::vector<std::optional<Error>> errors(count);
    auto run = [&](std::size_t i) {
      std::size_t start = i * k_gzip_chunk;
      std::string_view pending(m_pending);
      std::string_view input =
          pending.substr(start, std::min(k_gzip_chunk, pending.size() - start));
      std::string_view dictionary =
          i == 0 ? std::string_view(m_dictionary) : pending.substr(start - k_window, k_window);
      if (auto done = deflate_chunk(m_level, dictionary, input, last && i + 1 == count, parts[i]);
          !done) {
        errors[i] = done.error();
      }
    };
    {
      std::vector<std::jthread> helpers;
      for (std::size_t i = 1; i < count && helpers.size() + 1 < m_threads; ++i) {
        helpers.emplace_back(run, i);
      }
      if (count > 0) {
        run(0);
      }
      for (std::size_t i = helpers.size() + 1; i < count; ++i) {
        run(i);
      }
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (errors[i]) {
        return *errors[i];
      }
      output.append(parts[i]);
    }
    std::size_t used = std::min(m_pending.size(), whole * k_gzip_chunk);
    if (last) {
      used = m_pending.size();
    }
    if (used >= k_window) {
      m_dictionary.assign(m_pending, used - k_window, k_window);
    } else if (used > 0) {
      m_dictionary = (m_dictionary + m_pending.substr(0, used));
      if (m_dictionary.size() > k_window) {
        m_dictionary.erase(0, m_dictionary.size() - k_window);
      }
    }
    m_pending.erase(0, used);
    return {};
  }

  int m_level;
  unsigned m_threads;
  bool m_started = false;
  uLong m_crc = 0;
  std::uint64_t m_total = 0;
  std::string m_pending;
  std::string m_dictionary;
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

int default_level(Compression compression) { return compression == Compression::none ? 0 : 3; }

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
    return std::string("zlib ") + libz().version();
  }
  if (compression == Compression::zstd) {
    return std::string("zstd ") + libzstd().version_string();
  }
  return "none";
}

std::unique_ptr<BlobReader> make_compressing_reader(std::unique_ptr<BlobReader> inner,
                                                    std::unique_ptr<Compressor> compressor) {
  return std::make_unique<CompressingReader>(std::move(inner), std::move(compressor));
}

} // namespace regauth::image
