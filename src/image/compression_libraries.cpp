#include "compression_libraries.hpp"

#include "regauth/util/dynamic_library.hpp"

namespace regauth::image {
namespace {

LibZ load_libz() {
  const DynamicLibrary library("libz.so.1");
  LibZ api{};
  library.resolve("deflateInit2_", api.deflate_init2);
  library.resolve("deflate", api.deflate);
  library.resolve("deflateEnd", api.deflate_end);
  library.resolve("deflateSetDictionary", api.deflate_set_dictionary);
  library.resolve("crc32", api.crc32);
  library.resolve("zlibVersion", api.version);
  return api; // the library stays loaded for the life of the process
}

LibZstd load_libzstd() {
  const DynamicLibrary library("libzstd.so.1");
  LibZstd api{};
  library.resolve("ZSTD_createCCtx", api.create_cctx);
  library.resolve("ZSTD_freeCCtx", api.free_cctx);
  library.resolve("ZSTD_CCtx_setParameter", api.cctx_set_parameter);
  library.resolve("ZSTD_compressStream2", api.compress_stream2);
  library.resolve("ZSTD_isError", api.is_error);
  library.resolve("ZSTD_getErrorName", api.get_error_name);
  library.resolve("ZSTD_versionString", api.version_string);
  return api;
}

} // namespace

const LibZ& libz() {
  static const LibZ api = load_libz(); // thread-safe initialisation
  return api;
}

const LibZstd& libzstd() {
  static const LibZstd api = load_libzstd();
  return api;
}

} // namespace regauth::image
