#include "libarchive.hpp"

#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>

namespace regauth::image {
namespace {

[[noreturn]] void fail(const char* what) {
  const char* detail = ::dlerror();
  std::fprintf(stderr, "regauth: error: cannot load libarchive.so.13 (%s): %s\n", what,
               detail ? detail : "unknown error");
  std::_Exit(1);
}

template <typename Function> void resolve(void* library, const char* name, Function& target) {
  void* symbol = ::dlsym(library, name);
  if (!symbol) {
    fail(name);
  }
  target = reinterpret_cast<Function>(symbol);
}

LibArchive load() {
  void* library = ::dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    fail("dlopen");
  }
  LibArchive api{};
  resolve(library, "archive_read_new", api.read_new);
  resolve(library, "archive_read_free", api.read_free);
  resolve(library, "archive_read_support_format_tar", api.read_support_format_tar);
  resolve(library, "archive_read_support_filter_gzip", api.read_support_filter_gzip);
  resolve(library, "archive_read_support_filter_bzip2", api.read_support_filter_bzip2);
  resolve(library, "archive_read_support_filter_xz", api.read_support_filter_xz);
  resolve(library, "archive_read_support_filter_zstd", api.read_support_filter_zstd);
  resolve(library, "archive_read_open_filename", api.read_open_filename);
  resolve(library, "archive_read_next_header", api.read_next_header);
  resolve(library, "archive_read_data", api.read_data);
  resolve(library, "archive_error_string", api.error_string);
  resolve(library, "archive_entry_pathname", api.entry_pathname);
  resolve(library, "archive_entry_hardlink", api.entry_hardlink);
  resolve(library, "archive_entry_symlink", api.entry_symlink);
  resolve(library, "archive_entry_filetype", api.entry_filetype);
  resolve(library, "archive_entry_size", api.entry_size);
  return api; // the library stays loaded for the life of the process
}

} // namespace

const LibArchive& libarchive() {
  static const LibArchive api = load(); // thread-safe initialisation
  return api;
}

} // namespace regauth::image
