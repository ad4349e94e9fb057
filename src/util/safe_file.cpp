#include "regauth/util/safe_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace regauth {
namespace {

std::string size_text(std::uint64_t bytes) {
  if (bytes >= 1024U * 1024U && bytes % (1024U * 1024U) == 0) {
    return std::to_string(bytes / (1024U * 1024U)) + " MiB";
  }
  if (bytes >= 1024U && bytes % 1024U == 0) {
    return std::to_string(bytes / 1024U) + " KiB";
  }
  return std::to_string(bytes) + " bytes";
}

Error too_large(const std::filesystem::path& path, ErrorKind kind, std::uint64_t max_size) {
  return make_error(kind, "reading " + path.string() + ": larger than " + size_text(max_size) +
                              ", refusing to read it");
}

} // namespace

Result<std::size_t> RegularFile::read(char* buffer, std::size_t size) {
  while (true) {
    ssize_t got = ::read(m_fd.get(), buffer, size);
    if (got >= 0) {
      return static_cast<std::size_t>(got);
    }
    if (errno != EINTR) {
      return make_error(ErrorKind::io, "reading " + m_path.string() + ": " + std::strerror(errno));
    }
  }
}

Result<std::filesystem::path> RegularFile::real_path() const {
  std::error_code error;
  auto target = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(m_fd.get()), error);
  if (error) {
    return make_error(ErrorKind::io, "resolving " + m_path.string() + ": " + error.message());
  }
  return target;
}

std::string describe_file_type(unsigned int mode) {
  switch (mode & S_IFMT) {
  case S_IFIFO:
    return "a FIFO";
  case S_IFDIR:
    return "a directory";
  case S_IFSOCK:
    return "a socket";
  case S_IFCHR:
    return "a character device";
  case S_IFBLK:
    return "a block device";
  case S_IFLNK:
    return "a symbolic link";
  default:
    return "not a regular file";
  }
}

Result<RegularFile> open_regular_file(const std::filesystem::path& path, ErrorKind kind,
                                      std::uint64_t max_size, int extra_flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | extra_flags, 0600);
  if (fd < 0) {
    int error = errno;
    if (error == ENOENT) {
      return make_error(ErrorKind::not_found,
                        "opening " + path.string() + ": " + std::strerror(error));
    }
    if (error == ELOOP && (extra_flags & O_NOFOLLOW) != 0) {
      return make_error(kind, "opening " + path.string() + ": a symbolic link, not a regular file");
    }
    if (error == ENXIO) { // a FIFO opened for writing with no reader, a socket
      return make_error(kind, "opening " + path.string() + ": not a regular file");
    }
    return make_error(ErrorKind::io, "opening " + path.string() + ": " + std::strerror(error));
  }
  RegularFile file(fd, 0, path);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return make_error(ErrorKind::io, "opening " + path.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    return make_error(kind, "opening " + path.string() + ": " + describe_file_type(info.st_mode) +
                                ", not a regular file");
  }
  // Reads of a regular file never block anyway; clear the flag so that nothing depends on it.
  if (int flags = ::fcntl(fd, F_GETFL);
      flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    return make_error(ErrorKind::io, "opening " + path.string() + ": " + std::strerror(errno));
  }
  file.m_size = static_cast<std::uint64_t>(info.st_size);
  if (file.m_size > max_size) {
    return too_large(path, kind, max_size);
  }
  return file;
}

Result<std::string> read_regular_file(const std::filesystem::path& path, ErrorKind kind,
                                      std::uint64_t max_size) {
  auto file = open_regular_file(path, kind, max_size);
  if (!file) {
    return file.error();
  }
  return read_regular_file(*file, kind, max_size);
}

Result<std::string> read_regular_file(RegularFile& file, ErrorKind kind, std::uint64_t max_size) {
  std::string bytes;
  // The size at open, so that a big file (config.json with 100,000 entries) is not copied at
  // every doubling; a file that grows meanwhile still reads to its end.
  bytes.reserve(static_cast<std::size_t>(std::min(file.size(), max_size)) + 1);
  std::array<char, 65536> buffer{};
  while (true) {
    auto got = file.read(buffer.data(), buffer.size());
    if (!got) {
      return got.error();
    }
    if (*got == 0) {
      return bytes;
    }
    bytes.append(buffer.data(), *got);
    if (bytes.size() > max_size) {
      return too_large(file.path(), kind, max_size);
    }
  }
}

} // namespace regauth
