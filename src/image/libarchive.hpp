// libarchive, loaded on first use with dlopen: it pulls in libxml2, ICU and half a dozen
// compression libraries that only a docker-archive push needs. Private to src/image/.
#pragma once

#include <archive.h>
#include <archive_entry.h>

namespace regauth::image {

// The libarchive entry points regauth uses, resolved from libarchive.so.13.
struct LibArchive {
  archive* (*read_new)();
  int (*read_free)(archive* handle);
  int (*read_support_format_tar)(archive* handle);
  int (*read_support_filter_gzip)(archive* handle);
  int (*read_support_filter_bzip2)(archive* handle);
  int (*read_support_filter_xz)(archive* handle);
  int (*read_support_filter_zstd)(archive* handle);
  int (*read_open_filename)(archive* handle, const char* path, size_t block_size);
  int (*read_open_fd)(archive* handle, int fd, size_t block_size);
  int (*read_next_header)(archive* handle, archive_entry** entry);
  la_ssize_t (*read_data)(archive* handle, void* buffer, size_t size);
  const char* (*error_string)(archive* handle);
  const char* (*entry_pathname)(archive_entry* entry);
  const char* (*entry_hardlink)(archive_entry* entry);
  const char* (*entry_symlink)(archive_entry* entry);
  __LA_MODE_T (*entry_filetype)(archive_entry* entry);
  la_int64_t (*entry_size)(archive_entry* entry);
  const char* (*version_string)();
};

// The loaded library; loads it on the first call, thread-safely. A libarchive that cannot be
// loaded is as fatal as a missing library at start-up: regauth prints the loader's message and
// exits with status 1.
const LibArchive& libarchive();

} // namespace regauth::image
