#include "compression_libraries.hpp"

#include "regauth/util/dynamic_library.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>

namespace regauth::image {
namespace {

constexpr const char* k_libdeflate = "libdeflate.so.0";

LibZ load_libz() {
  const DynamicLibrary library("libz.so.1");
  LibZ api{};
  library.resolve("inflateInit2_", api.inflate_init2);
  library.resolve("inflate", api.inflate);
  library.resolve("inflateEnd", api.inflate_end);
  library.resolve("zlibVersion", api.version);
  return api; // the library stays loaded for the life of the process
}

// Every libdeflate function regauth calls (libdeflate_load_error checks each one).
constexpr std::array<const char*, 5> k_libdeflate_symbols = {
    "libdeflate_alloc_compressor", "libdeflate_deflate_compress",
    "libdeflate_deflate_compress_bound", "libdeflate_free_compressor", "libdeflate_crc32"};

LibDeflate load_libdeflate() {
  const DynamicLibrary library(k_libdeflate);
  LibDeflate api{};
  library.resolve(k_libdeflate_symbols[0], api.alloc_compressor);
  library.resolve(k_libdeflate_symbols[1], api.deflate_compress);
  library.resolve(k_libdeflate_symbols[2], api.deflate_compress_bound);
  library.resolve(k_libdeflate_symbols[3], api.free_compressor);
  library.resolve(k_libdeflate_symbols[4], api.crc32);
  return api;
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

// The GNU build ID (NT_GNU_BUILD_ID note) of the loaded object whose file is `file`, in hex;
// "" when it has none. Reads the note from memory, where the loader mapped it.
std::string build_id(const char* file) {
  struct Search {
    const char* file;
    std::string id;
  } search{file, ""};
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto& wanted = *static_cast<Search*>(data);
        if (info->dlpi_name == nullptr || std::strcmp(info->dlpi_name, wanted.file) != 0) {
          return 0;
        }
        for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
          const auto& header = info->dlpi_phdr[i];
          if (header.p_type != PT_NOTE) {
            continue;
          }
          const auto* at = reinterpret_cast<const unsigned char*>(info->dlpi_addr + header.p_vaddr);
          const auto* end = at + header.p_memsz;
          auto align = [](std::size_t n) { return (n + 3U) & ~std::size_t{3}; };
          while (at + sizeof(ElfW(Nhdr)) <= end) {
            ElfW(Nhdr) note{};
            std::memcpy(&note, at, sizeof note);
            const auto* name = at + sizeof note;
            const auto* desc = name + align(note.n_namesz);
            if (desc + note.n_descsz > end) {
              break;
            }
            if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0) {
              static constexpr char k_hex[] = "0123456789abcdef";
              for (std::size_t k = 0; k < note.n_descsz; ++k) {
                wanted.id += k_hex[desc[k] >> 4U];
                wanted.id += k_hex[desc[k] & 15U];
              }
              return 1;
            }
            at = desc + align(note.n_descsz);
          }
        }
        return 1;
      },
      &search);
  return search.id;
}

} // namespace

const LibZ& libz() {
  static const LibZ api = load_libz(); // thread-safe initialisation
  return api;
}

const LibDeflate& libdeflate() {
  static const LibDeflate api = load_libdeflate();
  return api;
}

const LibZstd& libzstd() {
  static const LibZstd api = load_libzstd();
  return api;
}

std::optional<std::string> libdeflate_load_error() {
  static const std::optional<std::string> error = []() -> std::optional<std::string> {
    // Opened here once more (the loader counts references), to report a missing library as an
    // error of the push rather than exit as DynamicLibrary does.
    void* handle = ::dlopen(k_libdeflate, RTLD_LAZY | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* detail = ::dlerror();
      return std::string("cannot load ") + k_libdeflate + ": " +
             (detail != nullptr ? detail : "unknown error");
    }
    for (const char* name : k_libdeflate_symbols) {
      if (::dlsym(handle, name) == nullptr) { // a library of another version, or a stand-in
        return std::string("cannot load ") + k_libdeflate + ": it has no " + name;
      }
    }
    return std::nullopt; // the handle stays open for the life of the process
  }();
  return error;
}

const std::string& libdeflate_version() {
  static const std::string version = [] {
    std::string text = LIBDEFLATE_VERSION_STRING;
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(libdeflate().alloc_compressor), &info) != 0 &&
        info.dli_fname != nullptr) {
      if (auto id = build_id(info.dli_fname); !id.empty()) {
        text += " (build-id " + id + ")";
      }
    }
    return text;
  }();
  return version;
}

} // namespace regauth::image
