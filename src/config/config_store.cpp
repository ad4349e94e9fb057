#include "regauth/config/config_store.hpp"

#include "regauth/util/safe_file.hpp"
#include "regauth/util/unique_fd.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <pwd.h>
#include <sstream>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace regauth::config {
namespace fs = std::filesystem;
namespace {

// The Docker CLI reads any size; 64 MiB holds more than half a million entries and still parses
// in well under a second, while a runaway or hostile file cannot exhaust memory.
constexpr std::uint64_t k_max_config_size = 64U * 1024U * 1024U;
constexpr int k_max_symlink_hops = 40;

std::string errno_text(int error) { return std::strerror(error); }

Error io_error(const std::string& what, const fs::path& path, int error) {
  return make_error(ErrorKind::io, what + " " + path.string() + ": " + errno_text(error));
}

Result<void> write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_error(ErrorKind::io, errno_text(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return {};
}

// Holds an exclusive flock() on `<config>.lock` until destroyed.
class ConfigLock {
public:
  static Result<ConfigLock> acquire(const fs::path& lock_path, std::chrono::milliseconds timeout) {
    auto file = open_regular_file(lock_path, ErrorKind::config, k_no_size_limit,
                                  O_RDWR | O_CREAT | O_NOFOLLOW);
    if (!file) {
      return file.error().with_context("lock file");
    }
    int fd = file->fd();
    UniqueFd guard(file->release());
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::milliseconds(1);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        return io_error("locking", lock_path, errno);
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return make_error(ErrorKind::config, "timed out after " + std::to_string(timeout.count()) +
                                                 " ms waiting for the lock " + lock_path.string() +
                                                 holder_description(lock_path));
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    // Record the holder so that a waiter that gives up can name it.
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) {
      (void)::pwrite(fd, pid.data(), pid.size(), 0);
    }
    return ConfigLock(guard.release());
  }

  ConfigLock(ConfigLock&& other) noexcept = default;
  ConfigLock& operator=(ConfigLock&&) = delete;
  ConfigLock(const ConfigLock&) = delete;
  ConfigLock& operator=(const ConfigLock&) = delete;
  ~ConfigLock() {
    if (m_fd.valid()) {
      ::flock(m_fd.get(), LOCK_UN);
    }
  }

private:
  explicit ConfigLock(int fd) : m_fd(fd) {}

  static std::string holder_description(const fs::path& lock_path) {
    auto holder = read_regular_file(lock_path, ErrorKind::config, 64);
    long pid = 0;
    std::istringstream in(holder ? *holder : std::string());
    if (!(in >> pid) || pid <= 0) {
      return "";
    }
    std::string text = " (held by process " + std::to_string(pid);
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    if (std::getline(comm, name) && !name.empty()) {
      text += " " + name;
    }
    return text + ")";
  }

  UniqueFd m_fd;
};

// A config.json from this size on gets the heap of prepare_heap_for.
constexpr std::uint64_t k_big_config_size = 1024U * 1024U;

// Reading and parsing a config.json of N bytes allocates about 12 N bytes of small pieces that
// live until the command ends: 90 MB for 100,000 entries, 22,000 page faults, and a fault costs
// tens of microseconds on a virtual machine (half of `ls`'s time there). For a big file, and
// once per process, glibc's heap is grown by that much at once and the kernel is asked to back
// it with transparent huge pages (madvise: a hint, one fault per 2 MiB where it is followed);
// big blocks come from that heap too, and freed memory stays in it for the next allocation.
// Elsewhere (another libc, a sanitizer's allocator, a heap that is not grown by brk), nothing
// happens: the heap is only advised where the program break was seen to move over it.
void prepare_heap_for(std::uint64_t file_size) {
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE) && defined(M_MMAP_THRESHOLD) &&                   \
    defined(M_TRIM_THRESHOLD)
  static std::atomic<bool> prepared{false};
  if (file_size < k_big_config_size || file_size > k_max_config_size || prepared.exchange(true)) {
    return;
  }
  constexpr std::size_t k_piece = 16U * 1024U * 1024U;
  constexpr std::size_t k_huge_page = 2U * 1024U * 1024U;
  const std::size_t want = static_cast<std::size_t>(file_size) * 12;
  // Blocks up to 32 MiB (glibc's largest threshold) from the heap; no heap given back on free.
  if (::mallopt(M_MMAP_THRESHOLD, 2 * static_cast<int>(k_piece)) == 0 ||
      ::mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<std::size_t>(2 * want, 1U << 30))) ==
          0) {
    return;
  }
  const auto sbrk_failed = [](void* at) {
    return at == reinterpret_cast<void*>(static_cast<std::intptr_t>(-1));
  };
  void* start = ::sbrk(0);
  std::vector<void*> pieces;
  pieces.reserve(want / k_piece + 1);
  for (std::size_t got = 0; got < want; got += k_piece) {
    void* piece = std::malloc(k_piece);
    if (piece == nullptr) {
      break;
    }
    pieces.push_back(piece);
  }
  void* end = ::sbrk(0);
  for (auto piece = pieces.rbegin(); piece != pieces.rend(); ++piece) {
    std::free(*piece);
  }
  if (sbrk_failed(start) || sbrk_failed(end) ||
      reinterpret_cast<std::uintptr_t>(end) <= reinterpret_cast<std::uintptr_t>(start)) {
    return;
  }
  auto first = (reinterpret_cast<std::uintptr_t>(start) + k_huge_page - 1) & ~(k_huge_page - 1);
  auto last = reinterpret_cast<std::uintptr_t>(end) & ~(k_huge_page - 1);
  if (last > first) {
    (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
#else
  (void)file_size;
#endif
}

Result<std::string> read_file(const fs::path& path, bool& existed) {
  if (struct stat info{}; ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
    prepare_heap_for(static_cast<std::uint64_t>(info.st_size));
  }
  auto bytes = read_regular_file(path, ErrorKind::config, k_max_config_size);
  if (!bytes && bytes.error().kind == ErrorKind::not_found) {
    existed = false;
    return std::string();
  }
  existed = bytes.has_value();
  return bytes;
}

std::optional<std::string> home_directory() {
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home);
  }
  if (const passwd* entry = ::getpwuid(::getuid()); entry && entry->pw_dir && *entry->pw_dir) {
    return std::string(entry->pw_dir);
  }
  return std::nullopt;
}

Result<void> fsync_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return io_error("opening directory", dir, errno);
  }
  UniqueFd guard(fd);
  if (::fsync(fd) != 0 && errno != EINVAL) {
    return io_error("syncing directory", dir, errno);
  }
  return {};
}

// Writes `bytes` to a fresh temp file beside `target`, then renames it over `target`.
Result<void> replace_file(const fs::path& target, std::string_view bytes, mode_t mode,
                          std::optional<std::pair<uid_t, gid_t>> owner) {
  fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string temp_template = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  int fd = ::mkostemp(temp_template.data(), O_CLOEXEC);
  if (fd < 0) {
    return io_error("creating a temporary file in", dir, errno);
  }
  fs::path temp_path = temp_template;
  UniqueFd guard(fd);
  auto fail = [&](Error error) -> Result<void> {
    ::unlink(temp_path.c_str());
    return error;
  };
  if (auto written = write_all(fd, bytes); !written) {
    return fail(make_error(ErrorKind::io,
                           "writing " + temp_path.string() + ": " + written.error().message));
  }
  if (::fchmod(fd, mode) != 0) {
    return fail(io_error("setting permissions of", temp_path, errno));
  }
  if (owner && (owner->first != ::geteuid() || owner->second != ::getegid())) {
    // Only root can give a file away; keep the owner when we can, as the Docker CLI does.
    (void)::fchown(fd, owner->first, owner->second);
  }
  if (::fsync(fd) != 0) {
    return fail(io_error("syncing", temp_path, errno));
  }
  if (::close(guard.release()) != 0) {
    return fail(io_error("closing", temp_path, errno));
  }
  if (::rename(temp_path.c_str(), target.c_str()) != 0) {
    return fail(io_error("replacing", target, errno));
  }
  return fsync_directory(dir);
}

Result<void> create_directories_private(const fs::path& dir) {
  if (dir.empty()) {
    return {};
  }
  struct stat info {};
  if (::stat(dir.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) {
      return make_error(ErrorKind::config, dir.string() + " exists and is not a directory");
    }
    return {};
  }
  if (auto parent = create_directories_private(dir.parent_path()); !parent) {
    return parent;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return io_error("creating directory", dir, errno);
  }
  return {};
}

} // namespace

Result<fs::path> resolve_config_path(const std::optional<std::string>& config_dir) {
  if (config_dir && !config_dir->empty()) {
    return fs::path(*config_dir) / "config.json";
  }
  if (const char* env = std::getenv("DOCKER_CONFIG"); env && *env) {
    return fs::path(env) / "config.json";
  }
  auto home = home_directory();
  if (!home) {
    return make_error(ErrorKind::config,
                      "cannot find the home directory: set HOME, DOCKER_CONFIG or --config");
  }
  return fs::path(*home) / ".docker" / "config.json";
}

Result<fs::path> resolve_write_target(const fs::path& path) {
  fs::path current = path;
  for (int hop = 0; hop < k_max_symlink_hops; ++hop) {
    struct stat info {};
    if (::lstat(current.c_str(), &info) != 0) {
      if (errno == ENOENT) {
        return current; // a new file, or the end of a dangling link
      }
      return io_error("examining", current, errno);
    }
    if (!S_ISLNK(info.st_mode)) {
      return current;
    }
    std::error_code error;
    fs::path link = fs::read_symlink(current, error);
    if (error) {
      return make_error(ErrorKind::io, "reading link " + current.string() + ": " + error.message());
    }
    current = link.is_absolute() ? link : current.parent_path() / link;
  }
  return make_error(ErrorKind::config, "too many levels of symbolic links at " + path.string());
}

std::vector<std::string> describe_duplicate_keys(const ConfigFile& config, const fs::path& path) {
  std::vector<std::string> warnings;
  for (const auto& duplicate : config.duplicate_keys()) {
    std::string how = duplicate.merged ? "both objects are read, merged, as the Docker CLI does"
                      : duplicate.differs
                          ? "the last value is used, as the Docker CLI does; regauth will not "
                            "save this file until one is removed"
                          : "both hold the same value";
    warnings.push_back(path.string() + ": key " + duplicate.path + " appears on lines " +
                       std::to_string(duplicate.first_line) + " and " +
                       std::to_string(duplicate.second_line) + ": " + how);
  }
  return warnings;
}

Result<LoadedConfig> load_config(const fs::path& path) {
  LoadedConfig loaded;
  auto bytes = read_file(path, loaded.existed);
  if (!bytes) {
    return bytes.error();
  }
  auto config = ConfigFile::parse(*bytes);
  if (!config) {
    return config.error().with_context("reading " + path.string());
  }
  loaded.config = std::move(*config);
  loaded.original_bytes = std::move(*bytes);
  return loaded;
}

Result<const LoadedConfig*> ConfigCache::get(const fs::path& path) {
  if (!loaded) {
    auto read = load_config(path);
    if (!read) {
      return read.error();
    }
    loaded = std::move(*read);
  }
  return &*loaded;
}

Result<SaveReport> update_config(const fs::path& path,
                                 const std::function<Result<bool>(ConfigFile&)>& change,
                                 const SaveOptions& options, ConfigCache* cache) {
  auto target = resolve_write_target(path);
  if (!target) {
    return target.error();
  }
  bool is_link = *target != path;
  if (!is_link) {
    // The default ~/.docker may not exist yet: create it private, as the Docker CLI does.
    if (auto made = create_directories_private(target->parent_path()); !made) {
      return made.error();
    }
  }
  auto lock = ConfigLock::acquire(target->string() + ".lock", options.lock_timeout);
  if (!lock) {
    return lock.error();
  }
  // Whatever happens below, a cache left behind holds what the file holds.
  std::optional<LoadedConfig> fresh;
  LoadedConfig* loaded = nullptr;
  bool keep = false;
  struct CacheGuard {
    ConfigCache* cache;
    bool* keep;
    ~CacheGuard() {
      if (cache != nullptr && !*keep) {
        cache->loaded.reset();
      }
    }
  } guard{cache, &keep};
  bool existed = false;
  auto bytes = read_file(*target, existed);
  if (!bytes) {
    return bytes.error();
  }
  if (cache != nullptr && cache->loaded && cache->loaded->existed == existed &&
      cache->loaded->original_bytes == *bytes) {
    // Nobody wrote the file since this command read it: no second parse.
    loaded = &*cache->loaded;
  } else {
    auto parsed = ConfigFile::parse(*bytes);
    if (!parsed) {
      return parsed.error().with_context("reading " + target->string());
    }
    fresh = LoadedConfig{std::move(*parsed), std::move(*bytes), existed};
    loaded = &*fresh;
  }
  // Moves a fresh reading into the cache, once the document is known to match the file.
  auto settle = [&](std::optional<std::string> written) {
    if (cache == nullptr) {
      return;
    }
    if (fresh) {
      cache->loaded = std::move(fresh);
    }
    if (written) {
      cache->loaded->original_bytes = std::move(*written);
      cache->loaded->existed = true;
    }
    keep = true;
  };
  auto changed = change(loaded->config);
  if (!changed) {
    return changed.error();
  }
  SaveReport report;
  std::string bytes_out = loaded->config.serialize();
  if (!*changed || (loaded->existed && bytes_out == loaded->original_bytes)) {
    settle(std::nullopt);
    return report;
  }
  if (const DuplicateKey* lossy = loaded->config.lossy_duplicate()) {
    // The file is read as the Docker CLI reads it, but writing that reading back would drop the
    // earlier value for good: leave the file as it is and let the user choose.
    return make_error(ErrorKind::config,
                      "refusing to save " + target->string() + ": key " + lossy->path +
                          " is on lines " + std::to_string(lossy->first_line) + " and " +
                          std::to_string(lossy->second_line) +
                          " with different values, and a save would keep only the last; "
                          "remove one of them");
  }
  mode_t mode = 0600;
  std::optional<std::pair<uid_t, gid_t>> owner;
  struct stat info {};
  if (::stat(target->c_str(), &info) == 0) {
    mode = info.st_mode & 07777;
    owner = std::make_pair(info.st_uid, info.st_gid);
    if ((mode & 077) != 0 && loaded->config.has_inline_secrets()) {
      mode &= 07700;
      mode |= 0600;
      char old_mode[8];
      std::snprintf(old_mode, sizeof old_mode, "%04o", info.st_mode & 07777);
      report.warnings.push_back(target->string() + " was readable by others (mode " + old_mode +
                                ") and holds credentials: its mode is now 0600");
    }
  }
  if (auto replaced = replace_file(*target, bytes_out, mode, owner); !replaced) {
    return replaced.error().with_context("saving " + path.string());
  }
  settle(std::move(bytes_out));
  report.written = true;
  return report;
}

Result<void> save_private_file(const fs::path& path, std::string_view bytes) {
  auto target = resolve_write_target(path);
  if (!target) {
    return target.error();
  }
  struct stat info {};
  if (::stat(target->c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
    return make_error(ErrorKind::io,
                      "writing " + path.string() + ": not a regular file, refusing to replace it");
  }
  if (auto replaced = replace_file(*target, bytes, 0600, std::nullopt); !replaced) {
    return replaced.error().with_context("writing " + path.string());
  }
  return {};
}

} // namespace regauth::config
