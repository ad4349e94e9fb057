#include "libarchive.hpp"

#include "regauth/image/docker_archive.hpp"
#include "regauth/util/dynamic_library.hpp"

#include <string_view>

namespace regauth::image {
namespace {

LibArchive load() {
  const DynamicLibrary library("libarchive.so.13");
  LibArchive api{};
  library.resolve("archive_read_new", api.read_new);
  library.resolve("archive_read_free", api.read_free);
  library.resolve("archive_read_support_format_tar", api.read_support_format_tar);
  library.resolve("archive_read_support_filter_gzip", api.read_support_filter_gzip);
  library.resolve("archive_read_support_filter_bzip2", api.read_support_filter_bzip2);
  library.resolve("archive_read_support_filter_xz", api.read_support_filter_xz);
  library.resolve("archive_read_support_filter_zstd", api.read_support_filter_zstd);
  library.resolve("archive_read_open_filename", api.read_open_filename);
  library.resolve("archive_read_open_fd", api.read_open_fd);
  library.resolve("archive_read_next_header", api.read_next_header);
  library.resolve("archive_read_data", api.read_data);
  library.resolve("archive_error_string", api.error_string);
  library.resolve("archive_entry_pathname", api.entry_pathname);
  library.resolve("archive_entry_hardlink", api.entry_hardlink);
  library.resolve("archive_entry_symlink", api.entry_symlink);
  library.resolve("archive_entry_filetype", api.entry_filetype);
  library.resolve("archive_entry_size", api.entry_size);
  library.resolve("archive_version_string", api.version_string);
  return api; // the library stays loaded for the life of the process
}

} // namespace

const LibArchive& libarchive() {
  static const LibArchive api = load(); // thread-safe initialisation
  return api;
}

std::string libarchive_version() {
  const char* text = libarchive().version_string(); // "libarchive 3.6.2"
  std::string_view version = text != nullptr ? text : "unknown";
  constexpr std::string_view k_prefix = "libarchive ";
  if (version.substr(0, k_prefix.size()) == k_prefix) {
    version.remove_prefix(k_prefix.size());
  }
  return std::string(version);
}

} // namespace regauth::image
