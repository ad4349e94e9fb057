// A CredentialStore that keeps credentials inline in config.json's `auths`, as the Docker CLI's
// file store does. Reads see the file as it is; writes go through config::update_config.
#pragma once

#include "regauth/config/config_store.hpp"
#include "regauth/credentials/credentials.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace regauth::credentials {

// How keys name registries: Docker's config.json (one key per registry, legacy spellings
// matched), or containers-auth.json(5) (keys may name a namespace or repository; a lookup takes
// the most specific key that holds credentials).
enum class KeyStyle { docker, auth_file };

// Every `auths` entry of `config` that holds credentials, with its username (`<token>` for an
// identity token alone). Pure: one pass over the entries.
std::map<std::string, std::string> list_inline_entries(const config::ConfigFile& config);
// The same entries sorted by key, the keys viewed in `config` (valid while it is): no copy of
// 100,000 keys to list them.
std::vector<std::pair<std::string_view, std::string>>
list_inline_entry_views(const config::ConfigFile& config);

class FileStore final : public CredentialStore {
public:
  // With `cache`, reads come from (and writes keep current) the command's one reading of the
  // file; without, every call reads the file.
  explicit FileStore(std::filesystem::path config_path, config::SaveOptions options = {},
                     KeyStyle style = KeyStyle::docker, config::SharedConfigCache cache = nullptr);

  [[nodiscard]] std::string description() const override;
  // Looks under the exact key first, then under legacy spellings of the same registry.
  Result<std::optional<Credentials>> get(const std::string& key) override;
  Result<void> store(const std::string& key, const Credentials& credentials) override;
  // Removes the entry under every spelling of the registry.
  Result<bool> erase(const std::string& key) override;
  Result<std::map<std::string, std::string>> list() override;
  std::vector<std::string> take_warnings() override;

private:
  [[nodiscard]] std::vector<std::string> matching(const config::ConfigFile& config,
                                                  const std::string& key) const;
  Result<const config::ConfigFile*> read();

  std::filesystem::path m_config_path;
  config::SaveOptions m_options;
  KeyStyle m_style;
  std::vector<std::string> m_warnings;
  config::SharedConfigCache m_cache;
  config::ConfigCache m_uncached; // refilled on every read when there is no shared cache
};

} // namespace regauth::credentials
