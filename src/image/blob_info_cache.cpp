#include "regauth/image/blob_info_cache.hpp"

#include "regauth/oci/digest.hpp"
#include "regauth/util/safe_file.hpp"
#include "regauth/util/unique_fd.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace regauth::image {
namespace {

namespace fs = std::filesystem;

constexpr int k_format = 1;
constexpr std::uint64_t k_max_file = 4U * 1024U * 1024U;
// About 200 bytes an entry: the file stays under 1 MiB.
constexpr std::size_t k_max_entries = 4000;
// About 150 bytes a location.
constexpr std::size_t k_max_locations = 2000;
constexpr std::size_t k_max_registries = 200;
constexpr std::size_t k_max_challenge = 4096;

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// What this process recorded for `key`, else what the file held; nullopt when neither has it.
template <typename Value>
std::optional<Value> newest(const std::map<std::string, Value>& added,
                            const std::map<std::string, Value>& saved, const std::string& key) {
  if (auto found = added.find(key); found != added.end()) {
    return found->second;
  }
  if (auto found = saved.find(key); found != saved.end()) {
    return found->second;
  }
  return std::nullopt;
}

} // namespace

BlobInfo parse_blob_info_cache(std::string_view text) {
  BlobInfo info;
  auto document = nlohmann::json::parse(text, nullptr, false);
  if (document.is_discarded() || !document.is_object() ||
      document.value("version", 0) != k_format) {
    return info;
  }
  auto list = document.find("compressed");
  if (list != document.end() && list->is_object()) {
    for (const auto& [key, value] : list->items()) {
      if (!value.is_object()) {
        continue;
      }
      auto digest = value.find("digest");
      auto size = value.find("size");
      if (digest == value.end() || !digest->is_string() || size == value.end() ||
          !size->is_number_unsigned()) {
        continue;
      }
      auto text_digest = digest->get<std::string>();
      if (!oci::validate_digest(text_digest)) {
        continue; // a digest reaches a URL: only a valid one is taken
      }
      info.compressed[key] = CompressedBlob{text_digest, size->get<std::uint64_t>()};
    }
  }
  auto locations = document.find("locations");
  if (locations != document.end() && locations->is_array()) {
    for (const auto& value : *locations) {
      if (!value.is_string()) {
        continue;
      }
      const auto& location = value.get_ref<const std::string&>();
      auto at = location.rfind('@');
      if (at != std::string::npos && at > 0 && oci::validate_digest(location.substr(at + 1))) {
        info.locations.push_back(location);
      }
    }
  }
  auto registries = document.find("registries");
  if (registries != document.end() && registries->is_object()) {
    for (const auto& [host, value] : registries->items()) {
      if (!value.is_object() || host.empty()) {
        continue;
      }
      auto base = value.find("base");
      auto challenge = value.find("challenge");
      if (base == value.end() || !base->is_string() || challenge == value.end() ||
          !challenge->is_string() ||
          challenge->get_ref<const std::string&>().size() > k_max_challenge) {
        continue;
      }
      const auto& base_url = base->get_ref<const std::string&>();
      if (base_url != "https://" + host && base_url != "http://" + host) {
        continue; // only ever the registry's own origin
      }
      info.registries[host] = RegistryAnswer{base_url, challenge->get<std::string>()};
    }
  }
  return info;
}

std::string blob_info_cache_text(const BlobInfo& info) {
  nlohmann::json list = nlohmann::json::object();
  const auto& entries = info.compressed;
  std::size_t skip = entries.size() > k_max_entries ? entries.size() - k_max_entries : 0;
  for (const auto& [key, blob] : entries) {
    if (skip > 0) {
      --skip;
      continue;
    }
    list[key] = {{"digest", blob.digest}, {"size", blob.size}};
  }
  nlohmann::json locations = nlohmann::json::array();
  std::size_t first =
      info.locations.size() > k_max_locations ? info.locations.size() - k_max_locations : 0;
  for (std::size_t i = first; i < info.locations.size(); ++i) {
    locations.push_back(info.locations[i]);
  }
  nlohmann::json registries = nlohmann::json::object();
  std::size_t skip_registries =
      info.registries.size() > k_max_registries ? info.registries.size() - k_max_registries : 0;
  for (const auto& [host, answer] : info.registries) {
    if (skip_registries > 0) {
      --skip_registries;
      continue;
    }
    registries[host] = {{"base", answer.base_url}, {"challenge", answer.challenge}};
  }
  return nlohmann::json{{"version", k_format},
                        {"compressed", list},
                        {"locations", locations},
                        {"registries", registries}}
             .dump(1) +
         "\n";
}

std::string blob_info_key(std::string_view uncompressed_digest, std::string_view algorithm,
                          std::string_view library_version, int level) {
  return std::string(uncompressed_digest) + " " + std::string(algorithm) + " " +
         std::string(library_version) + " " + std::to_string(level);
}

std::string manifest_location(std::string_view registry, std::string_view repository,
                              std::string_view digest) {
  return std::string(registry) + "/" + std::string(repository) + "@" + std::string(digest);
}

std::string default_blob_info_cache_path() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    return (fs::path(xdg) / "regauth" / "blob-info.json").string();
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') {
    return (fs::path(home) / ".cache" / "regauth" / "blob-info.json").string();
  }
  return "";
}

BlobInfoCache::BlobInfoCache(std::string path) : m_path(std::move(path)) {}

void BlobInfoCache::load_locked() {
  if (m_loaded) {
    return;
  }
  m_loaded = true;
  if (m_path.empty()) {
    return;
  }
  auto file = open_regular_file(m_path, ErrorKind::io, k_max_file, O_NOFOLLOW);
  if (!file) {
    return;
  }
  std::string text;
  std::array<char, 65536> buffer{};
  while (true) {
    auto got = file->read(buffer.data(), buffer.size());
    if (!got || *got == 0 || text.size() > k_max_file) {
      break;
    }
    text.append(buffer.data(), *got);
  }
  m_info = parse_blob_info_cache(text);
}

std::optional<CompressedBlob> BlobInfoCache::find(const std::string& key) {
  std::lock_guard lock(m_mutex);
  load_locked();
  return newest(m_added, m_info.compressed, key);
}

bool BlobInfoCache::knows_location(const std::string& location) {
  std::lock_guard lock(m_mutex);
  load_locked();
  auto has = [&](const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), location) != list.end();
  };
  return has(m_info.locations) || has(m_added_locations);
}

void BlobInfoCache::record_location(const std::string& location) {
  std::lock_guard lock(m_mutex);
  m_added_locations.push_back(location);
}

std::optional<RegistryAnswer> BlobInfoCache::find_registry(const std::string& host) {
  std::lock_guard lock(m_mutex);
  load_locked();
  return newest(m_added_registries, m_info.registries, host);
}

void BlobInfoCache::record_registry(const std::string& host, const RegistryAnswer& answer) {
  std::lock_guard lock(m_mutex);
  m_added_registries[host] = answer;
}

void BlobInfoCache::record(const std::string& key, const CompressedBlob& blob) {
  std::lock_guard lock(m_mutex);
  m_added[key] = blob;
}

void BlobInfoCache::save() {
  std::lock_guard lock(m_mutex);
  if (m_path.empty() ||
      (m_added.empty() && m_added_locations.empty() && m_added_registries.empty())) {
    return;
  }
  fs::path path(m_path);
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  ::chmod(path.parent_path().c_str(), 0700); // best effort: a folder regauth just made
  UniqueFd lock_file(
      ::open((m_path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (lock_file.get() < 0 || ::flock(lock_file.get(), LOCK_EX) != 0) {
    return;
  }
  // Re-read under the lock: another push may have added entries meanwhile.
  m_loaded = false;
  m_info = {};
  load_locked();
  for (const auto& [key, blob] : m_added) {
    m_info.compressed[key] = blob;
  }
  for (const auto& location : m_added_locations) {
    // Newest last: a location recorded again moves to the end, away from the ones dropped.
    std::erase(m_info.locations, location);
    m_info.locations.push_back(location);
  }
  for (const auto& [host, answer] : m_added_registries) {
    m_info.registries[host] = answer;
  }
  std::string temp = m_path + ".tmp" + std::to_string(::getpid());
  UniqueFd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (out.get() < 0) {
    return;
  }
  // No fsync: a cache that a crash leaves empty or torn is ignored and written again, and a
  // push should not wait on the disk for it.
  if (!write_all(out.get(), blob_info_cache_text(m_info)) ||
      ::rename(temp.c_str(), m_path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return;
  }
  m_added.clear();
  m_added_locations.clear();
  m_added_registries.clear();
}

} // namespace regauth::image
