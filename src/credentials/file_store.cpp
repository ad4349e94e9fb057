#include "regauth/credentials/file_store.hpp"

#include "regauth/config/registry_key.hpp"
#include "regauth/credentials/auth_entry.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace regauth::credentials {

FileStore::FileStore(std::filesystem::path config_path, config::SaveOptions options, KeyStyle style,
                     config::SharedConfigCache cache)
    : m_config_path(std::move(config_path)), m_options(options), m_style(style),
      m_cache(std::move(cache)) {}

Result<const config::ConfigFile*> FileStore::read() {
  config::ConfigCache* cache = m_cache.get();
  if (cache == nullptr) {
    m_uncached.loaded.reset();
    cache = &m_uncached;
  }
  auto loaded = cache->get(m_config_path);
  if (!loaded) {
    return loaded.error();
  }
  return &(*loaded)->config;
}

std::vector<std::string> FileStore::matching(const config::ConfigFile& config,
                                             const std::string& key) const {
  return m_style == KeyStyle::auth_file ? config.matching_auth_file_keys(key)
                                        : config.matching_auth_keys(key);
}

std::string FileStore::description() const { return m_config_path.string(); }

Result<std::optional<Credentials>> FileStore::get(const std::string& key) {
  auto config = read();
  if (!config) {
    return config.error();
  }
  // auth.json: the repository's own key, then its namespaces, then the registry.
  std::vector<std::string> lookups = m_style == KeyStyle::auth_file
                                         ? config::auth_file_lookup_keys(key)
                                         : std::vector<std::string>{key};
  for (const auto& lookup : lookups) {
    for (const auto& stored_key : matching(**config, lookup)) {
      auto decoded = decode_auth_entry(*(*config)->auth_entry(stored_key), stored_key);
      if (!decoded) {
        return decoded.error().with_context("reading " + m_config_path.string());
      }
      if (*decoded) {
        return decoded;
      }
    }
  }
  return std::optional<Credentials>();
}

Result<void> FileStore::store(const std::string& key, const Credentials& credentials) {
  auto saved = config::update_config(
      m_config_path,
      [&](config::ConfigFile& config) -> Result<bool> {
        const config::Json* existing = config.auth_entry(key);
        config.set_auth_entry(
            key, encode_auth_entry(existing ? *existing : config::Json::object(), credentials));
        return true;
      },
      m_options, m_cache.get());
  if (!saved) {
    return saved.error();
  }
  m_warnings.insert(m_warnings.end(), saved->warnings.begin(), saved->warnings.end());
  return {};
}

Result<bool> FileStore::erase(const std::string& key) {
  // Look first without the lock: logging out of nothing must not touch the file system.
  auto config = read();
  if (!config) {
    return config.error();
  }
  if (matching(**config, key).empty()) {
    return false;
  }
  bool removed = false;
  auto saved = config::update_config(
      m_config_path,
      [&](config::ConfigFile& config) -> Result<bool> {
        for (const auto& stored_key : matching(config, key)) {
          removed = config.erase_auth_entry(stored_key) || removed;
        }
        return removed;
      },
      m_options, m_cache.get());
  if (!saved) {
    return saved.error();
  }
  m_warnings.insert(m_warnings.end(), saved->warnings.begin(), saved->warnings.end());
  return removed;
}

namespace {

// Sorts `entries` by key. The keys lie all over the heap: compared where they are, every
// comparison of a sort of 100,000 costs two cache misses. So the sort moves small records that
// hold 8 bytes of each key (big-endian, zero-padded: integer order is byte order) and how many
// of them the key has, 9 standing for more: records that compare equal hold keys equal so far,
// and are sorted again on their next 8 bytes (most-significant-digit first, without recursion).
void sort_by_key(std::vector<std::pair<std::string_view, std::string>>& entries) {
  if (entries.size() > std::numeric_limits<std::uint32_t>::max()) {
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return;
  }
  struct Record {
    std::uint64_t bytes;
    std::uint32_t length; // of the key from the offset, at most 9
    std::uint32_t index;
  };
  auto less = [](const Record& a, const Record& b) {
    return a.bytes != b.bytes ? a.bytes < b.bytes : a.length < b.length;
  };
  std::vector<Record> records(entries.size());
  auto fill = [&](std::size_t begin, std::size_t end, std::size_t offset) {
    for (std::size_t i = begin; i < end; ++i) {
      std::string_view key = entries[records[i].index].first;
      std::string_view rest = key.substr(std::min(offset, key.size()));
      std::uint64_t bytes = 0;
      for (std::size_t byte = 0; byte < 8; ++byte) {
        bytes = (bytes << 8) | (byte < rest.size() ? static_cast<unsigned char>(rest[byte]) : 0U);
      }
      records[i].bytes = bytes;
      records[i].length = static_cast<std::uint32_t>(std::min<std::size_t>(rest.size(), 9));
    }
  };
  for (std::size_t i = 0; i < records.size(); ++i) {
    records[i].index = static_cast<std::uint32_t>(i);
  }
  struct Range {
    std::size_t begin;
    std::size_t end;
    std::size_t offset;
  };
  std::vector<Range> pending{{0, records.size(), 0}};
  while (!pending.empty()) {
    Range range = pending.back();
    pending.pop_back();
    fill(range.begin, range.end, range.offset);
    auto first = records.begin() + static_cast<std::ptrdiff_t>(range.begin);
    auto last = records.begin() + static_cast<std::ptrdiff_t>(range.end);
    std::sort(first, last, less);
    // Runs of keys equal so far that go on: their order is in their next bytes.
    for (auto run = first; run != last;) {
      auto run_end = std::find_if(run + 1, last, [&](const Record& r) { return less(*run, r); });
      if (run_end - run > 1 && run->length > 8) {
        pending.push_back({static_cast<std::size_t>(run - records.begin()),
                           static_cast<std::size_t>(run_end - records.begin()), range.offset + 8});
      }
      run = run_end;
    }
  }
  std::vector<std::pair<std::string_view, std::string>> sorted;
  sorted.reserve(entries.size());
  for (const Record& record : records) {
    sorted.push_back(std::move(entries[record.index]));
  }
  entries.swap(sorted);
}

} // namespace

std::vector<std::pair<std::string_view, std::string>>
list_inline_entry_views(const config::ConfigFile& config) {
  std::vector<std::pair<std::string_view, std::string>> entries;
  const auto& json = config.json();
  auto auths = json.find("auths");
  if (auths == json.end() || !auths->is_object()) {
    return entries;
  }
  // One pass over the entries (a lookup per key would be quadratic: `auths` is a vector).
  const auto& members = auths->get_ref<const config::Json::object_t&>();
  entries.reserve(members.size());
  bool sorted = true;
  for (const auto& [key, entry] : members) {
    auto decoded = decode_auth_entry(entry, key);
    if (decoded && *decoded) {
      Credentials& credentials = **decoded;
      sorted = sorted && (entries.empty() || entries.back().first < key);
      entries.emplace_back(key, credentials.username.empty() && !credentials.identity_token.empty()
                                    ? std::string(k_token_username)
                                    : std::move(credentials.username));
    }
  }
  if (!sorted) {
    sort_by_key(entries);
  }
  return entries;
}

std::map<std::string, std::string> list_inline_entries(const config::ConfigFile& config) {
  std::map<std::string, std::string> entries;
  for (auto& [key, user] : list_inline_entry_views(config)) {
    entries.emplace_hint(entries.end(), key, std::move(user));
  }
  return entries;
}

Result<std::map<std::string, std::string>> FileStore::list() {
  auto config = read();
  if (!config) {
    return config.error();
  }
  return list_inline_entries(**config);
}

std::vector<std::string> FileStore::take_warnings() { return std::exchange(m_warnings, {}); }

} // namespace regauth::credentials
