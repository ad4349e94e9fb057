#include "regauth/image/compression.hpp"

#include "compression_libraries.hpp"

#include <array>
#include <cstring>

namespace regauth::image {
namespace {

constexpr std::string_view k_oci_layer_tar = "application/vnd.oci.image.layer.v1.tar";
constexpr std::string_view k_docker_layer_tar = "application/vnd.docker.image.rootfs.diff.tar";
constexpr std::string_view k_docker_prefix = "application/vnd.docker.";
constexpr std::size_t k_out_block = 64U * 1024U;
// zlib's window (15 bits) with 16 added: a gzip header and trailer instead of zlib's.
constexpr int k_gzip_window_bits = 15 + 16;
constexpr int k_mem_level = 8;

class GzipCompressor final : public Compressor {
public:
  GzipCompressor() { std::memset(&m_stream, 0, sizeof m_stream); }
  ~GzipCompressor() override {
    if (m_started) {
      libz().deflate_end(&m_stream);
    }
  }
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;
  GzipCompressor(GzipCompressor&&) = delete;
  GzipCompressor& operator=(GzipCompressor&&) = delete;

  Result<void> start(int level) {
    // No file name and no time stamp in the header (zlib writes neither unless given a
    // gz_header), so the bytes depend on the input alone.
    int status =
        libz().deflate_init2(&m_stream, level, Z_DEFLATED, k_gzip_window_bits, k_mem_level,
                             Z_DEFAULT_STRATEGY, ZLIB_VERSION, static_cast<int>(sizeof(z_stream)));
    if (status != Z_OK) {
      return make_error(ErrorKind::io, "gzip: cannot start zlib's compressor (status " +
                                           std::to_string(status) + ")");
    }
    m_started = true;
    return {};
  }

  Result<void> write(std::string_view input, std::string& output) override {
    return run(input, Z_NO_FLUSH, output);
  }
  Result<void> finish(std::string& output) override { return run({}, Z_FINISH, output); }

private:
  Result<void> run(std::string_view input, int flush, std::string& output) {
    // zlib takes a non-const pointer but never writes through next_in.
    m_stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    m_stream.avail_in = static_cast<uInt>(input.size());
    while (true) {
      std::size_t before = output.size();
      output.resize(before + k_out_block);
      m_stream.next_out = reinterpret_cast<Bytef*>(output.data() + before);
      m_stream.avail_out = static_cast<uInt>(k_out_block);
      int status = libz().deflate(&m_stream, flush);
      output.resize(before + k_out_block - m_stream.avail_out);
      if (status == Z_STREAM_END) {
        return {};
      }
      if (status != Z_OK && status != Z_BUF_ERROR) {
        return make_error(ErrorKind::io,
                          "gzip: zlib failed (status " + std::to_string(status) + ")");
      }
      if (flush != Z_FINISH && m_stream.avail_in == 0 && m_stream.avail_out != 0) {
        return {};
      }
    }
  }

  z_stream m_stream{};
  bool m_started = false;
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
  return media_type == k_oci_layer_tar || media_type == k_docker_layer_tar;
}

bool is_docker_media_type(std::string_view media_type) {
  return media_type.substr(0, k_docker_prefix.size()) == k_docker_prefix;
}

std::string compressed_layer_type(std::string_view uncompressed_type, Compression compression) {
  if (uncompressed_type == k_oci_layer_tar) {
    if (compression == Compression::gzip) {
      return std::string(k_oci_layer_tar) + "+gzip";
    }
    if (compression == Compression::zstd) {
      return std::string(k_oci_layer_tar) + "+zstd";
    }
  }
  if (uncompressed_type == k_docker_layer_tar && compression == Compression::gzip) {
    return std::string(k_docker_layer_tar) + ".gzip";
  }
  return "";
}

Result<std::unique_ptr<Compressor>> make_compressor(Compression compression, int level) {
  if (compression == Compression::gzip) {
    auto compressor = std::make_unique<GzipCompressor>();
    if (auto started = compressor->start(level); !started) {
      return started.error();
    }
    return std::unique_ptr<Compressor>(std::move(compressor));
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
