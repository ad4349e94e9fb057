// Opening files that a user, a config or an image names: never blocking in open(2) on a FIFO or
// a device, regular files only, sizes capped. Every such file goes through here: config.json and
// its lock file, an OCI layout's `oci-layout`, `index.json` and blobs, a docker-archive tarball.
#pragma once

#include "regauth/result.hpp"
#include "regauth/util/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>

namespace regauth {

constexpr std::uint64_t k_no_size_limit = std::numeric_limits<std::uint64_t>::max();

class RegularFile;

// Opens `path` with O_NONBLOCK (so that a FIFO or a device cannot block open(2); the flag is
// cleared at once), O_CLOEXEC and `extra_flags` (say O_RDWR | O_CREAT | O_NOFOLLOW), then checks
// with fstat that it is a regular file of at most `max_size` bytes. Fails with `kind` naming the
// path and what it is instead ("a FIFO", "a directory") or its size; (not_found) when it does
// not exist; (io) for other errors of open(2).
Result<RegularFile> open_regular_file(const std::filesystem::path& path, ErrorKind kind,
                                      std::uint64_t max_size = k_no_size_limit,
                                      int extra_flags = 0);

// An open, regular file; the descriptor is closed on destruction.
class RegularFile {
public:
  RegularFile(RegularFile&& other) noexcept = default;
  RegularFile& operator=(RegularFile&& other) noexcept = default;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile() = default;

  [[nodiscard]] int fd() const { return m_fd.get(); }
  // The size fstat reported at open.
  [[nodiscard]] std::uint64_t size() const { return m_size; }
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
  // Gives the descriptor away (the caller closes it).
  int release() { return m_fd.release(); }
  // Reads up to `size` bytes; 0 at the end. Fails (io) on a read error.
  Result<std::size_t> read(char* buffer, std::size_t size);
  // The path the descriptor really names (every symlink resolved), from /proc/self/fd.
  [[nodiscard]] Result<std::filesystem::path> real_path() const;

private:
  friend Result<RegularFile> open_regular_file(const std::filesystem::path&, ErrorKind,
                                               std::uint64_t, int);
  RegularFile(int fd, std::uint64_t size, std::filesystem::path path)
      : m_fd(fd), m_size(size), m_path(std::move(path)) {}
  UniqueFd m_fd;
  std::uint64_t m_size = 0;
  std::filesystem::path m_path;
};

// Reads the whole of a file opened as open_regular_file does. The cap holds for the bytes read
// too (a file that grows while it is read fails the same way).
Result<std::string> read_regular_file(const std::filesystem::path& path, ErrorKind kind,
                                      std::uint64_t max_size);

// Reads the rest of a file already opened with open_regular_file (by a caller that checks it
// before reading, say where it resolves to), with the same cap and the same errors.
Result<std::string> read_regular_file(RegularFile& file, ErrorKind kind, std::uint64_t max_size);

// "a FIFO", "a directory", "a socket", "a character device", "a block device", "a symbolic link"
// or "not a regular file" for an st_mode.
std::string describe_file_type(unsigned int mode);

} // namespace regauth
