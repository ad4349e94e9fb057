// The blob-info cache, as skopeo's: which compressed blob an uncompressed layer became with an
// algorithm, library and level, so that a re-push asks the registry about the known compressed
// digest and compresses nothing. One small JSON file in the user's cache folder
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

namespace regauth::image {

struct CompressedBlob {
  std::string digest;
  std::uint64_t size = 0;
};

// The entries of a cache file's text; nothing for text that is not a cache (pure).
std::map<std::string, CompressedBlob> parse_blob_info_cache(std::string_view text);
// The text of a cache file holding `entries`: at most 4000 of them (the file stays under
// 1 MiB); beyond that the first keys are dropped.
std::string blob_info_cache_text(const std::map<std::string, CompressedBlob>& entries);

// The key of one entry: "<uncompressed digest> <algorithm> <library version> <level>".
std::string blob_info_key(std::string_view uncompressed_digest, std::string_view algorithm,
                          std::string_view library_version, int level);

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
  // Merges what record() added into the file under its lock (temp file and rename, mode 0600).
  // Failures are ignored.
  void save();

private:
  void load_locked();

  std::string m_path;
  std::mutex m_mutex;
  bool m_loaded = false;
  std::map<std::string, CompressedBlob> m_entries;
  std::map<std::string, CompressedBlob> m_added;
};

} // namespace regauth::image
