// The config.json model: the whole document as parsed (every field regauth does not know is
// kept with its value and its place), typed accessors for the fields regauth uses, and the
// Docker CLI's serialization (tab indent, Go's escaping, no trailing newline). Pure: no files.
#pragma once

#include "regauth/result.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace regauth::config {

using Json = nlohmann::ordered_json;

// A key that appears twice in one object of config.json. The file is read as the Docker CLI
// (Go's encoding/json) reads it: the last value wins, except that a repeated top-level map field
// (`auths`, `credHelpers`, `HttpHeaders`, `proxies`, `plugins`, `aliases`, `features`) merges
// into the first, entry by entry.
struct DuplicateKey {
  std::string path;        // "auths", "auths"."r.example"."auth", "x".[0]
  std::size_t first_line;  // where the earlier value's key is (1-based)
  std::size_t second_line; // where the later value's key is
  bool merged = false;     // two objects merged (nothing dropped at this level)
  bool differs = false;    // a value was dropped that differs from the kept one
};

class ConfigFile {
public:
  // An empty config: `{}`.
  ConfigFile();

  // Parses config.json bytes. Empty or whitespace-only input is an empty config; a UTF-8 BOM
  // is skipped. Fails (config) with "line L column C: ..." on malformed JSON, or names the
  // field whose type is wrong (`auths`, `auths["x"]`, `credsStore`, `credHelpers`).
  static Result<ConfigFile> parse(std::string_view bytes);

  // The document as the Docker CLI writes it: json.MarshalIndent with "\t", no BOM, no newline.
  [[nodiscard]] std::string serialize() const;

  [[nodiscard]] const Json& json() const { return m_json; }

  // The repeated keys of the parsed file, in file order; empty for a file without any.
  [[nodiscard]] const std::vector<DuplicateKey>& duplicate_keys() const { return m_duplicates; }
  // The first repeated key whose dropped value differs from the kept one: a save would lose
  // it. nullptr when there is none.
  [[nodiscard]] const DuplicateKey* lossy_duplicate() const;

  // Keys of `auths` in file order.
  [[nodiscard]] std::vector<std::string> auth_keys() const;
  // The stored keys that name the registry `normalized_key`: the exact key first, then legacy
  // spellings (`https://host`, `http://host/v1/`) in file order. Empty when none.
  [[nodiscard]] std::vector<std::string> matching_auth_keys(std::string_view normalized_key) const;
  // The stored keys that name the auth.json key `normalized_key` (normalize_auth_file_key):
  // the exact key first, then other spellings in file order. Empty when none.
  [[nodiscard]] std::vector<std::string>
  matching_auth_file_keys(std::string_view normalized_key) const;
  // The entry under `key`, or nullptr.
  [[nodiscard]] const Json* auth_entry(std::string_view key) const;
  // Replaces the entry under `key` in place, or inserts it where a sorted `auths` keeps it.
  void set_auth_entry(const std::string& key, Json entry);
  // Removes `auths[key]`; returns whether it existed.
  bool erase_auth_entry(std::string_view key);
  // Removes every `auths` entry whose key is in `keys`, in one pass; returns how many went.
  std::size_t erase_auth_entries(const std::unordered_set<std::string_view>& keys);
  // Removes the `auths` entries at `positions` (indexes in file order, as json() holds them;
  // any order, repeats and indexes past the end allowed), in one pass; returns how many went.
  std::size_t erase_auth_entries_at(const std::vector<std::size_t>& positions);

  // `credsStore`, or "" when unset.
  [[nodiscard]] std::string creds_store() const;
  void set_creds_store(const std::string& name);
  // `credHelpers[key]` for the registry, exact key first then legacy spellings; nullopt if none.
  [[nodiscard]] std::optional<std::string> cred_helper(std::string_view normalized_key) const;
  // All `credHelpers` entries.
  [[nodiscard]] std::map<std::string, std::string> cred_helpers() const;

  // True when no `auths` entry, `credsStore` or `credHelpers` exists (the Docker CLI then
  // detects a platform default credential helper).
  [[nodiscard]] bool has_no_auth_settings() const;
  // False when regauth's own setting `"regauth": {"identity": false}` turns the identity sources
  // (cloud roles, CI job tokens) off; true otherwise.
  [[nodiscard]] bool identity_enabled() const;
  // True when some `auths` entry holds a secret inline (auth, password, identitytoken,
  // registrytoken).
  [[nodiscard]] bool has_inline_secrets() const;

private:
  explicit ConfigFile(Json json) : m_json(std::move(json)) {}
  Json m_json;
  std::vector<DuplicateKey> m_duplicates;
  std::size_t m_parsed_size = 0; // bytes of the file it was parsed from
};

// Serializes any JSON value as Go's json.MarshalIndent(v, "", "\t") does.
std::string serialize_go_style(const Json& value);

} // namespace regauth::config
