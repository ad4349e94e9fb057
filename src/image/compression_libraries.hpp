// zlib, libdeflate and libzstd, loaded on first use with dlopen: only a push that compresses
// layers needs them, so `ls`, `logout` and `login` never load them. Private to src/image/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <libdeflate.h>
#include <optional>
#include <string>
#include <zlib.h>
#include <zstd.h>

namespace regauth::image {

// The zlib entry points regauth uses, resolved from libz.so.1: inflate, which finds where the
// final block of a libdeflate chunk starts.
struct LibZ {
  // inflateInit2 is a macro over inflateInit2_, which checks the header's version and struct size.
  int (*inflate_init2)(z_streamp stream, int window_bits, const char* version, int stream_size);
  int (*inflate)(z_streamp stream, int flush);
  int (*inflate_end)(z_streamp stream);
  const char* (*version)();
};

// The libdeflate entry points regauth uses, resolved from libdeflate.so.0: gzip's deflate.
struct LibDeflate {
  libdeflate_compressor* (*alloc_compressor)(int level);
  std::size_t (*deflate_compress)(libdeflate_compressor* compressor, const void* input,
                                  std::size_t input_size, void* output, std::size_t output_size);
  std::size_t (*deflate_compress_bound)(libdeflate_compressor* compressor, std::size_t input_size);
  void (*free_compressor)(libdeflate_compressor* compressor);
  // gzip's CRC-32 (with PCLMULQDQ where the CPU has it: some twenty times zlib's speed here)
  std::uint32_t (*crc32)(std::uint32_t crc, const void* bytes, std::size_t length);
};

// The libzstd entry points regauth uses, resolved from libzstd.so.1.
struct LibZstd {
  ZSTD_CCtx* (*create_cctx)();
  std::size_t (*free_cctx)(ZSTD_CCtx* context);
  std::size_t (*cctx_set_parameter)(ZSTD_CCtx* context, ZSTD_cParameter parameter, int value);
  std::size_t (*compress_stream2)(ZSTD_CCtx* context, ZSTD_outBuffer* output, ZSTD_inBuffer* input,
                                  ZSTD_EndDirective end);
  unsigned (*is_error)(std::size_t code);
  const char* (*get_error_name)(std::size_t code);
  const char* (*version_string)();
};

// The loaded libraries; each loads on its first call, thread-safely. A library that cannot be
// loaded is as fatal as a missing library at start-up: regauth prints the loader's message and
// exits with status 1.
const LibZ& libz();
const LibDeflate& libdeflate();
const LibZstd& libzstd();

// Why libdeflate cannot be loaded ("cannot load libdeflate.so.0: <the loader's message>"), or
// nullopt when it can: a gzip push checks this first and fails with an io error rather than
// exit. Tries once per process.
std::optional<std::string> libdeflate_load_error();

// What identifies the loaded libdeflate, whose library has no version function: the version of
// the header regauth was built with and the GNU build ID of the loaded file, as in
// "1.14 (build-id 8dd45d05f8c7bacfe3e762adce0626c61767fe22)"; "1.14" alone when the file has no
// build ID. Loads libdeflate.
const std::string& libdeflate_version();

} // namespace regauth::image
