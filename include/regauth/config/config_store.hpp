// Finding, loading and safely saving config.json: atomic replace (temp file, fsync, rename,
// directory fsync), symlinks followed, permissions kept or tightened, and a lock file that
// serializes read-modify-write cycles between processes.
#pragma once

#include "regauth/config/config_file.hpp"
#include "regauth/result.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace regauth::config {

// Where config.json lives: `--config DIR`, else $DOCKER_CONFIG, else $HOME/.docker (the home
// from the environment, then the password database). Fails (config) when no home is known.
Result<std::filesystem::path> resolve_config_path(const std::optional<std::string>& config_dir);

// A config as read from disk, with the bytes it came from (to tell whether anything changed).
struct LoadedConfig {
  ConfigFile config;
  std::string original_bytes;
  bool existed = false;
};

// Reads config.json. A missing or empty file is an empty config. Fails (config) naming the file
// and the place where it broke, or (io) when it cannot be read.
Result<LoadedConfig> load_config(const std::filesystem::path& path);

// One command's reading of one config file, shared by everything that needs it (the Keychain,
// its file store, the HttpHeaders of a transport), so that a command parses the file once:
// filled by the first reader, kept current by update_config, emptied when a failed update may
// have left it out of step with the file.
struct ConfigCache {
  std::optional<LoadedConfig> loaded;

  // The cached reading, read and parsed on first use. Fails as load_config.
  Result<const LoadedConfig*> get(const std::filesystem::path& path);
};
using SharedConfigCache = std::shared_ptr<ConfigCache>;

struct SaveOptions {
  std::chrono::milliseconds lock_timeout{10000};
};

// What a save did: whether the file was written, and warnings for the user.
struct SaveReport {
  bool written = false;
  std::vector<std::string> warnings;
};

// Read-modify-write under the lock: takes the lock file beside the real config.json, re-reads
// the file, calls `change` (which returns whether it changed anything), and saves atomically
// when the bytes differ. A malformed file is never written, nor one whose repeated keys hold
// different values (a save would drop one: config error naming the key and both lines). On
// failure the file is untouched.
// With `cache` (this command's earlier reading of the same file), the file read under the lock
// is compared with the cached bytes: when they are the same, `change` applies to the cached
// document and the file is not parsed again; otherwise the fresh reading replaces the cache.
// Either way the cache then holds what the file holds (it is emptied on failure).
Result<SaveReport> update_config(const std::filesystem::path& path,
                                 const std::function<Result<bool>(ConfigFile&)>& change,
                                 const SaveOptions& options = {}, ConfigCache* cache = nullptr);

// Follows symlinks (absolute, relative, dangling) to the file that a write must replace.
Result<std::filesystem::path> resolve_write_target(const std::filesystem::path& path);

// One warning per repeated key of `config` (read from `path`), naming the key, both lines and
// how it was read: "PATH: key "auths" appears on lines 2 and 9: ...".
std::vector<std::string> describe_duplicate_keys(const ConfigFile& config,
                                                 const std::filesystem::path& path);

// Writes `bytes` to `path` atomically (temp file beside it, fsync, rename) with mode 0600,
// symlinks followed. Fails (io) when the file it would replace is not a regular file (a
// device, a FIFO, a directory), or on any write error; the old file is then untouched.
Result<void> save_private_file(const std::filesystem::path& path, std::string_view bytes);

} // namespace regauth::config
