#include "regauth/image/blob_info_cache.hpp"

#include "regauth/oci/digest.hpp"
#include "regauth/util/safe_file.hpp"
#include "regauth/util/unique_fd.hpp"

#include <nlohmann/json.hpp>

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

} // namespace

std::map<std::string, CompressedBlob> parse_blob_info_cache(std::string_view text) {
  std::map<std::string, CompressedBlob> entries;
  auto document = nlohmann::json::parse(text, nullptr, false);
  if (document.is_discarded() || !document.is_object() ||
      document.value("version", 0) != k_format) {
    return entries;
  }
  auto list = document.find("compressed");
  if (list == document.end() || !list->is_object()) {
    return entries;
  }
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
    entries[key] = CompressedBlob{text_digest, size->get<std::uint64_t>()};
  }
  return entries;
}

std::string blob_info_cache_text(const std::map<std::string, CompressedBlob>& entries) {
  nlohmann::json list = nlohmann::json::object();
  std::size_t skip = entries.size() > k_max_entries ? entries.size() - k_max_entries : 0;
  for (const auto& [key, blob] : entries) {
    if (skip > 0) {
      --skip;
      continue;
    }
    list[key] = {{"digest", blob.digest}, {"size", blob.size}};
  }
  return nlohmann::json{{"version", k_format}, {"compressed", list}}.dump(1) + "\n";
}

std::string blob_info_key(std::string_view uncompressed_digest, std::string_view algorithm,
                          std::string_view library_version, int level) {
  return std::string(uncompressed_digest) + " " + std::string(algorithm) + " " +
         std::string(library_version) + " " + std::to_string(level);
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
  m_entries = parse_blob_info_cache(text);
}

std::optional<CompressedBlob> BlobInfoCache::find(const std::string& key) {
  std::lock_guard lock(m_mutex);
  load_locked();
  if (auto added = m_added.find(key); added != m_added.end()) {
    return added->second;
  }
  if (auto entry = m_entries.find(key); entry != m_entries.end()) {
    return entry->second;
  }
  return std::nullopt;
}

void BlobInfoCache::record(const std::string& key, const CompressedBlob& blob) {
  std::lock_guard lock(m_mutex);
  m_added[key] = blob;
}

void BlobInfoCache::save() {
  std::lock_guard lock(m_mutex);
  if (m_path.empty() || m_added.empty()) {
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
  m_entries.clear();
  load_locked();
  for (const auto& [key, blob] : m_added) {
    m_entries[key] = blob;
  }
  std::string temp = m_path + ".tmp" + std::to_string(::getpid());
  UniqueFd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (out.get() < 0) {
    return;
  }
  if (!write_all(out.get(), blob_info_cache_text(m_entries)) || ::fsync(out.get()) != 0 ||
      ::rename(temp.c_str(), m_path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return;
  }
  m_added.clear();
}

} // namespace regauth::image
