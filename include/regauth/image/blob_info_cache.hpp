// The blob-info cache, as skopeo's: which compressed blob an uncompressed layer became with an
// algorithm, library and level, so that a re-push asks the registry about the known compressed
// digest and compresses nothing; and where this machine pushed which manifest (skopeo's known
// locations), so that a re-push looks its tag up beside the gate; and how each registry answered
// the last ping (its base URL and WWW-Authenticate challenge, never a credential), so that the
// next push need not ask again. One small JSON file in the user's
// cache folder
// ($XDG_CACHE_HOME/regauth/blob-info.json, else ~/.cache/regauth/blob-info.json), mode 0600,
// updated under flock; it holds digests and sizes only, never a secret. A cache that is
// missing, corrupt or unreadable is ignored: it only ever saves work.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace regauth::image {

struct CompressedBlob {
  std::string digest;
  std::uint64_t size = 0;
};

// How a registry answered a ping: where ("https://host[:port]") and its WWW-Authenticate
// challenge ("" when it asked for none).
struct RegistryAnswer {
  std::string base_url;
  std::string challenge;
  bool operator==(const RegistryAnswer&) const = default;
};

struct BlobInfo {
  std::map<std::string, CompressedBlob> compressed; // by blob_info_key
  std::vector<std::string> locations;               // manifest_location()s, oldest first
  std::map<std::string, RegistryAnswer> registries; // by registry host[:port]
};

// The entries of a cache file's text; nothing for text that is not a cache, and no entry that
// does not hold a valid digest (pure).
BlobInfo parse_blob_info_cache(std::string_view text);
// The text of a cache file holding `info`: at most 4000 compressed entries (beyond that the
// first keys are dropped), the newest 2000 locations and 200 registries, so that the file
// stays under 1 MiB.
std::string blob_info_cache_text(const BlobInfo& info);

// The key of one entry: "<uncompressed digest> <algorithm> <library version> <level>".
std::string blob_info_key(std::string_view uncompressed_digest, std::string_view algorithm,
                          std::string_view library_version, int level);

// A manifest's location: "<registry>/<repository>@<digest>".
std::string manifest_location(std::string_view registry, std::string_view repository,
                              std::string_view digest);

// The cache's path from the environment: $XDG_CACHE_HOME/regauth/blob-info.json when
// XDG_CACHE_HOME is an absolute path, else $HOME/.cache/regauth/blob-info.json; "" when neither.
std::string default_blob_info_cache_path();

class BlobInfoCache {
public:
  // The cache at `path` ("" for none: finds nothing, saves nothing).
  explicit BlobInfoCache(std::string path);

  // The entry for `key`, reading the file on the first call; nullopt when there is none.
  std::optional<CompressedBlob> find(const std::string& key);
  // Adds an entry, kept in memory until save(). Thread-safe.
  void record(const std::string& key, const CompressedBlob& blob);
  // Whether record_location() saved `location` before (reading the file on the first call).
  bool knows_location(const std::string& location);
  // Adds a location, kept in memory until save(). Thread-safe.
  void record_location(const std::string& location);
  // How `host` answered the last ping recorded, if it was.
  std::optional<RegistryAnswer> find_registry(const std::string& host);
  // Records how `host` answered, kept in memory until save(). Thread-safe.
  void record_registry(const std::string& host, const RegistryAnswer& answer);
  // Merges what record(), record_location() and record_registry() added into the file under its
  // lock (temp file and rename, mode 0600). Failures are ignored.
  void save();

private:
  void load_locked();

  std::string m_path;
  std::mutex m_mutex;
  bool m_loaded = false;
  BlobInfo m_info;
  std::map<std::string, CompressedBlob> m_added;
  std::vector<std::string> m_added_locations;
  std::map<std::string, RegistryAnswer> m_added_registries;
};

} // namespace regauth::image
