// Writes a tar file for unit tests (libarchive's writer, pax-restricted): regular files and
// symlinks, each entry checked with Catch2's REQUIRE.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace regauth::testing {

struct TarEntry {
  std::string name;
  std::string bytes;
  std::string symlink; // a symlink to this target when not empty
};

inline void write_tar(const std::filesystem::path& path, const std::vector<TarEntry>& entries) {
  archive* out = archive_write_new();
  REQUIRE(out != nullptr);
  archive_write_set_format_pax_restricted(out);
  REQUIRE(archive_write_open_filename(out, path.c_str()) == ARCHIVE_OK);
  for (const auto& item : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, item.name.c_str());
    if (item.symlink.empty()) {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_size(entry, static_cast<la_int64_t>(item.bytes.size()));
    } else {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, item.symlink.c_str());
      archive_entry_set_size(entry, 0);
    }
    archive_entry_set_perm(entry, 0644);
    REQUIRE(archive_write_header(out, entry) == ARCHIVE_OK);
    if (!item.bytes.empty()) {
      REQUIRE(archive_write_data(out, item.bytes.data(), item.bytes.size()) ==
              static_cast<la_ssize_t>(item.bytes.size()));
    }
    archive_entry_free(entry);
  }
  archive_write_close(out);
  archive_write_free(out);
}

} // namespace regauth::testing
