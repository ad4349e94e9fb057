// zlib and libzstd, loaded on first use with dlopen: only a push that compresses layers needs
// them, so `ls`, `logout` and `login` never load them. Private to src/image/.
#pragma once

#include <cstddef>
#include <zlib.h>
#include <zstd.h>

namespace regauth::image {

// The zlib entry points regauth uses, resolved from libz.so.1.
struct LibZ {
  // deflateInit2 is a macro over deflateInit2_, which checks the header's version and struct size.
  int (*deflate_init2)(z_streamp stream, int level, int method, int window_bits, int mem_level,
                       int strategy, const char* version, int stream_size);
  int (*deflate)(z_streamp stream, int flush);
  int (*deflate_end)(z_streamp stream);
  int (*deflate_set_dictionary)(z_streamp stream, const Bytef* dictionary, uInt length);
  uLong (*crc32)(uLong crc, const Bytef* bytes, uInt length);
  const char* (*version)();
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
const LibZstd& libzstd();

} // namespace regauth::image
