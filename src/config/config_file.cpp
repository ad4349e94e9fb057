#include "regauth/config/config_file.hpp"

#include "regauth/config/registry_key.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <optional>
#include <unordered_map>

namespace regauth::config {
namespace {

constexpr std::string_view k_utf8_bom = "\xEF\xBB\xBF";
constexpr std::size_t k_max_depth = 512;

// Reads bytes for nlohmann's lexer and counts the line feeds it has consumed, so that the SAX
// consumer knows the line of each key (the lexer has read up to the key's closing quote when
// it reports the key, and a key cannot hold a raw line feed).
class LineCountingIterator {
public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  LineCountingIterator(const char* at, std::size_t* line_feeds)
      : m_at(at), m_line_feeds(line_feeds) {}
  reference operator*() const { return *m_at; }
  LineCountingIterator& operator++() {
    if (*m_at == '\n') {
      ++*m_line_feeds;
    }
    ++m_at;
    return *this;
  }
  bool operator==(const LineCountingIterator& other) const { return m_at == other.m_at; }
  bool operator!=(const LineCountingIterator& other) const { return m_at != other.m_at; }

private:
  const char* m_at;
  std::size_t* m_line_feeds;
};

// Top-level fields that the Docker CLI's ConfigFile struct holds as Go maps. encoding/json
// decodes a repeated one into the map it already has, keeping its entries ("Unmarshal reuses
// the existing map, keeping existing entries"): the two objects merge. Every other repeated
// key, at any level, keeps its last value.
bool merges_when_repeated(std::string_view key) {
  return key == "auths" || key == "credHelpers" || key == "HttpHeaders" || key == "proxies" ||
         key == "plugins" || key == "aliases" || key == "features";
}

std::string quoted_key(const std::string& key) {
  return Json(key).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// SAX consumer that builds the document in one pass, linear in its size (nlohmann's own
// ordered_json parser looks each new key up in a vector: quadratic in the keys of an object),
// records every repeated key with both lines, and remembers where parsing failed.
class DocumentBuilder : public nlohmann::json_sax<Json> {
public:
  explicit DocumentBuilder(const std::size_t* line_feeds) : m_line_feeds(line_feeds) {}

  std::size_t position = 0;
  std::string what;
  bool too_deep = false;
  Json root;
  std::vector<DuplicateKey> duplicates;

  bool null() override { return place(Json(nullptr)) != nullptr; }
  bool boolean(bool value) override { return place(Json(value)) != nullptr; }
  bool number_integer(number_integer_t value) override { return place(Json(value)) != nullptr; }
  bool number_unsigned(number_unsigned_t value) override { return place(Json(value)) != nullptr; }
  bool number_float(number_float_t value, const string_t& /*raw*/) override {
    return place(Json(value)) != nullptr;
  }
  bool string(string_t& value) override { return place(Json(std::move(value))) != nullptr; }
  bool binary(binary_t& /*value*/) override { return false; }

  bool start_object(std::size_t /*size*/) override { return open(Json::object()); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t /*size*/) override { return open(Json::array()); }
  bool end_array() override { return close(); }

  bool key(string_t& value) override {
    Frame& frame = m_stack.back();
    frame.key = std::move(value);
    frame.key_line = *m_line_feeds + 1;
    return true;
  }

  bool parse_error(std::size_t pos, const std::string& /*token*/,
                   const nlohmann::detail::exception& ex) override {
    position = pos;
    what = ex.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 1, column 2: "
    auto colon = what.find(": ");
    if (colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    // and appends "; last read: '<token>'", which may be a secret (an `auth` value): drop it.
    if (auto last_read = what.find("; last read:"); last_read != std::string::npos) {
      what.resize(last_read);
    }
    return false;
  }

private:
  using Object = Json::object_t;
  using Members = Object::Container;
  struct KeyPlace {
    std::size_t index = 0;
    std::size_t line = 0;
  };
  using KeyIndex = std::unordered_map<std::string, KeyPlace>;
  struct Frame {
    Json* value = nullptr;
    std::string segment; // its key in the parent object, or its index in the parent array
    bool in_array = false;
    bool is_root = true;
    // The keys of an object with their places: in `small` (searched in order) while there are
    // few, in `keys` (hashed) from k_small_object on, so that both small and huge objects
    // cost little per key.
    std::vector<std::pair<std::string, KeyPlace>> small;
    KeyIndex keys;
    std::string key;
    std::size_t key_line = 0;
    // A repeated key whose last value replaced this container: the dropped value, compared
    // with the new one once it is complete.
    std::optional<Json> dropped;
    std::size_t duplicate = 0; // index into `duplicates`
  };

  // Puts `value` where the parser is: the root, the end of an array, or under the current key
  // of an object. Returns where it went, and whether it is a merge into an existing object.
  Json* place(Json value, bool* merged = nullptr, Frame* for_container = nullptr) {
    if (m_stack.empty()) {
      root = std::move(value);
      return &root;
    }
    Frame& frame = m_stack.back();
    if (frame.value->is_array()) {
      frame.value->push_back(std::move(value));
      return &frame.value->back();
    }
    auto& members = static_cast<Members&>(frame.value->get_ref<Object&>());
    KeyPlace* seen = find_key(frame, members);
    if (seen == nullptr) {
      add_key(frame, members.size());
      members.emplace_back(frame.key, std::move(value));
      return &members.back().second;
    }
    Json& existing = members[seen->index].second;
    DuplicateKey duplicate{path_to(frame.key), seen->line, frame.key_line, false, false};
    seen->line = frame.key_line;
    if (m_stack.size() == 1 && merges_when_repeated(frame.key) && existing.is_object() &&
        value.is_object()) {
      duplicate.merged = true;
      duplicates.push_back(std::move(duplicate));
      if (merged != nullptr) {
        *merged = true;
      }
      return &existing;
    }
    if (value.is_structured() && for_container != nullptr) {
      for_container->dropped = std::move(existing);
      for_container->duplicate = duplicates.size();
    } else {
      duplicate.differs = existing != value;
    }
    duplicates.push_back(std::move(duplicate));
    existing = std::move(value);
    return &existing;
  }

  bool open(Json container) {
    if (m_stack.size() >= k_max_depth) {
      too_deep = true;
      return false;
    }
    Frame frame;
    bool merged = false;
    if (!m_stack.empty()) {
      frame.is_root = false;
      frame.in_array = m_stack.back().value->is_array();
      frame.segment =
          frame.in_array ? std::to_string(m_stack.back().value->size()) : m_stack.back().key;
    }
    std::string key = m_stack.empty() ? std::string() : m_stack.back().key;
    frame.value = place(std::move(container), &merged, &frame);
    if (merged) {
      // Go decodes into the map it already has: continue that object with its keys.
      auto& saved = m_merge_keys[key];
      frame.keys = std::move(saved.first);
      frame.small = std::move(saved.second);
    }
    m_stack.push_back(std::move(frame));
    return true;
  }

  static constexpr std::size_t k_small_object = 16;

  KeyPlace* find_key(Frame& frame, const Members& /*members*/) {
    if (!frame.keys.empty()) {
      auto it = frame.keys.find(frame.key);
      return it == frame.keys.end() ? nullptr : &it->second;
    }
    for (auto& [name, place] : frame.small) {
      if (name == frame.key) {
        return &place;
      }
    }
    return nullptr;
  }

  void add_key(Frame& frame, std::size_t index) {
    if (frame.keys.empty() && frame.small.size() < k_small_object) {
      frame.small.emplace_back(frame.key, KeyPlace{index, frame.key_line});
      return;
    }
    if (frame.keys.empty()) {
      frame.keys.reserve(4 * k_small_object);
      for (auto& [name, place] : frame.small) {
        frame.keys.emplace(std::move(name), place);
      }
      frame.small.clear();
    }
    frame.keys.emplace(frame.key, KeyPlace{index, frame.key_line});
  }

  // "\"auths\".\"r.example\"" for `key` in the innermost object.
  [[nodiscard]] std::string path_to(const std::string& key) const {
    std::string path;
    for (const auto& frame : m_stack) {
      if (!frame.is_root) {
        path += (frame.in_array ? "[" + frame.segment + "]" : quoted_key(frame.segment)) + ".";
      }
    }
    return path + quoted_key(key);
  }

  bool close() {
    Frame& frame = m_stack.back();
    if (frame.dropped) {
      duplicates[frame.duplicate].differs = *frame.dropped != *frame.value;
    }
    if (m_stack.size() == 2 && frame.value->is_object() &&
        merges_when_repeated(m_stack.front().key)) {
      m_merge_keys[m_stack.front().key] = {std::move(frame.keys), std::move(frame.small)};
    }
    m_stack.pop_back();
    return true;
  }

  const std::size_t* m_line_feeds;
  std::vector<Frame> m_stack;
  // The keys of the top-level map fields, for a repeated one to continue.
  std::unordered_map<std::string,
                     std::pair<KeyIndex, std::vector<std::pair<std::string, KeyPlace>>>>
      m_merge_keys;
};

std::string line_column(std::string_view text, std::size_t position) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i + 1 < position && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + " column " + std::to_string(column);
}

Result<void> check_types(const Json& json) {
  if (!json.is_object()) {
    return make_error(ErrorKind::config, "the top level is not a JSON object");
  }
  if (auto it = json.find("auths"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) {
      return make_error(ErrorKind::config, "\"auths\" is not an object");
    }
    for (const auto& [key, entry] : it->items()) {
      if (!entry.is_object() && !entry.is_null()) {
        return make_error(ErrorKind::config, "\"auths\" entry \"" + key + "\" is not an object");
      }
      for (const char* field : {"auth", "username", "password", "identitytoken", "registrytoken"}) {
        if (auto value = entry.find(field);
            entry.is_object() && value != entry.end() && !value->is_string() && !value->is_null()) {
          return make_error(ErrorKind::config,
                            "\"auths\" entry \"" + key + "\": \"" + field + "\" is not a string");
        }
      }
    }
  }
  if (auto it = json.find("credsStore"); it != json.end() && !it->is_string() && !it->is_null()) {
    return make_error(ErrorKind::config, "\"credsStore\" is not a string");
  }
  if (auto it = json.find("credHelpers"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) {
      return make_error(ErrorKind::config, "\"credHelpers\" is not an object");
    }
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) {
        return make_error(ErrorKind::config,
                          "\"credHelpers\" entry \"" + key + "\" is not a string");
      }
    }
  }
  // regauth's own settings; the Docker CLI keeps the field as it keeps every unknown one.
  if (auto it = json.find("regauth"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) {
      return make_error(ErrorKind::config, "\"regauth\" is not an object");
    }
    if (auto identity = it->find("identity"); identity != it->end() && !identity->is_boolean()) {
      return make_error(ErrorKind::config, "\"regauth\": \"identity\" is not true or false");
    }
  }
  return {};
}

void append_go_string(std::string& out, const std::string& text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '<':
    case '>':
    case '&':
      out += "\\u00";
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
      break;
    default:
      if (c < 0x20) {
        out += "\\u00";
        out += k_hex[c >> 4];
        out += k_hex[c & 0xf];
      } else if (c == 0xE2 && i + 2 < text.size() &&
                 static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                 (static_cast<unsigned char>(text[i + 2]) == 0xA8 ||
                  static_cast<unsigned char>(text[i + 2]) == 0xA9)) {
        out += static_cast<unsigned char>(text[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
        i += 2;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  out += '"';
}

void append_go_value(std::string& out, const Json& value, std::size_t depth) {
  auto newline = [&](std::size_t level) {
    out += '\n';
    out.append(level, '\t');
  };
  switch (value.type()) {
  case Json::value_t::object: {
    if (value.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) {
        out += ',';
      }
      first = false;
      newline(depth + 1);
      append_go_string(out, key);
      out += ": ";
      append_go_value(out, item, depth + 1);
    }
    newline(depth);
    out += '}';
    return;
  }
  case Json::value_t::array: {
    if (value.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const auto& item : value) {
      if (!first) {
        out += ',';
      }
      first = false;
      newline(depth + 1);
      append_go_value(out, item, depth + 1);
    }
    newline(depth);
    out += ']';
    return;
  }
  case Json::value_t::string:
    append_go_string(out, value.get_ref<const std::string&>());
    return;
  default:
    out += value.dump();
    return;
  }
}

const Json* find_member(const Json& object, std::string_view name) {
  if (!object.is_object()) {
    return nullptr;
  }
  auto it = object.find(std::string(name));
  return it == object.end() ? nullptr : &*it;
}

} // namespace

ConfigFile::ConfigFile() : m_json(Json::object()) {}

Result<ConfigFile> ConfigFile::parse(std::string_view bytes) {
  if (bytes.substr(0, k_utf8_bom.size()) == k_utf8_bom) {
    bytes.remove_prefix(k_utf8_bom.size());
  }
  if (std::all_of(bytes.begin(), bytes.end(),
                  [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; })) {
    return ConfigFile();
  }
  std::size_t line_feeds = 0;
  DocumentBuilder builder(&line_feeds);
  bool ok = Json::sax_parse(LineCountingIterator(bytes.data(), &line_feeds),
                            LineCountingIterator(bytes.data() + bytes.size(), &line_feeds),
                            &builder, nlohmann::detail::input_format_t::json, true);
  if (!ok) {
    if (builder.too_deep) {
      return make_error(ErrorKind::config,
                        "nested deeper than " + std::to_string(k_max_depth) + " levels");
    }
    return make_error(ErrorKind::config,
                      line_column(bytes, builder.position) + ": " + builder.what);
  }
  Json json = std::move(builder.root);
  if (auto checked = check_types(json); !checked) {
    return checked.error();
  }
  ConfigFile config(std::move(json));
  config.m_duplicates = std::move(builder.duplicates);
  return config;
}

std::string ConfigFile::serialize() const { return serialize_go_style(m_json); }

const DuplicateKey* ConfigFile::lossy_duplicate() const {
  for (const auto& duplicate : m_duplicates) {
    if (duplicate.differs) {
      return &duplicate;
    }
  }
  return nullptr;
}

std::string serialize_go_style(const Json& value) {
  std::string out;
  append_go_value(out, value, 0);
  return out;
}

std::vector<std::string> ConfigFile::auth_keys() const {
  std::vector<std::string> keys;
  if (const Json* auths = find_member(m_json, "auths"); auths && auths->is_object()) {
    for (const auto& [key, entry] : auths->items()) {
      keys.push_back(key);
    }
  }
  return keys;
}

std::vector<std::string> ConfigFile::matching_auth_keys(std::string_view normalized_key) const {
  std::vector<std::string> keys;
  const auto all = auth_keys();
  if (std::find(all.begin(), all.end(), normalized_key) != all.end()) {
    keys.emplace_back(normalized_key);
  }
  for (const auto& key : all) {
    if (key != normalized_key && registry_key_matches(key, normalized_key)) {
      keys.push_back(key);
    }
  }
  return keys;
}

std::vector<std::string>
ConfigFile::matching_auth_file_keys(std::string_view normalized_key) const {
  std::vector<std::string> keys;
  const auto all = auth_keys();
  if (std::find(all.begin(), all.end(), normalized_key) != all.end()) {
    keys.emplace_back(normalized_key);
  }
  for (const auto& key : all) {
    if (key == normalized_key) {
      continue;
    }
    auto normalized = normalize_auth_file_key(key);
    if (normalized && *normalized == normalized_key) {
      keys.push_back(key);
    }
  }
  return keys;
}

const Json* ConfigFile::auth_entry(std::string_view key) const {
  const Json* auths = find_member(m_json, "auths");
  return auths ? find_member(*auths, key) : nullptr;
}

void ConfigFile::set_auth_entry(const std::string& key, Json entry) {
  auto auths_it = m_json.find("auths");
  if (auths_it == m_json.end() || !auths_it->is_object()) {
    // A new `auths` goes first, where the Docker CLI's struct order puts it.
    Json rebuilt = Json::object();
    rebuilt["auths"] = Json::object();
    for (auto& [name, value] : m_json.items()) {
      if (name != "auths") {
        rebuilt[name] = std::move(value);
      }
    }
    m_json = std::move(rebuilt);
    auths_it = m_json.find("auths");
  }
  Json& auths = *auths_it;
  if (auto it = auths.find(key); it != auths.end()) {
    *it = std::move(entry);
    return;
  }
  // Insert before the first key that sorts after it: a sorted file (as Go writes maps) stays
  // sorted, so the Docker CLI's rewrite of it differs in nothing else. Rebuilt in one pass
  // (ordered_json's operator[] looks each key up: quadratic).
  auto& old_members = static_cast<Json::object_t::Container&>(auths.get_ref<Json::object_t&>());
  Json rebuilt = Json::object();
  auto& members = static_cast<Json::object_t::Container&>(rebuilt.get_ref<Json::object_t&>());
  members.reserve(old_members.size() + 1);
  bool inserted = false;
  for (auto& [name, value] : old_members) {
    if (!inserted && name > key) {
      members.emplace_back(key, std::move(entry));
      inserted = true;
    }
    members.emplace_back(name, std::move(value));
  }
  if (!inserted) {
    members.emplace_back(key, std::move(entry));
  }
  auths = std::move(rebuilt);
}

bool ConfigFile::erase_auth_entry(std::string_view key) {
  auto auths = m_json.find("auths");
  if (auths == m_json.end() || !auths->is_object()) {
    return false;
  }
  return auths->erase(std::string(key)) > 0;
}

std::size_t ConfigFile::erase_auth_entries(const std::set<std::string, std::less<>>& keys) {
  auto auths = m_json.find("auths");
  if (keys.empty() || auths == m_json.end() || !auths->is_object()) {
    return 0;
  }
  // One pass (ordered_json's erase of one key moves every later entry: quadratic).
  auto& members = static_cast<Json::object_t::Container&>(auths->get_ref<Json::object_t&>());
  Json::object_t::Container kept;
  kept.reserve(members.size());
  for (auto& [name, value] : members) {
    if (keys.count(name) == 0) {
      kept.emplace_back(name, std::move(value));
    }
  }
  std::size_t removed = members.size() - kept.size();
  members.swap(kept);
  return removed;
}

std::string ConfigFile::creds_store() const {
  const Json* value = find_member(m_json, "credsStore");
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

void ConfigFile::set_creds_store(const std::string& name) { m_json["credsStore"] = name; }

std::optional<std::string> ConfigFile::cred_helper(std::string_view normalized_key) const {
  const Json* helpers = find_member(m_json, "credHelpers");
  if (!helpers || !helpers->is_object()) {
    return std::nullopt;
  }
  if (const Json* exact = find_member(*helpers, normalized_key); exact && exact->is_string()) {
    return exact->get<std::string>();
  }
  for (const auto& [key, value] : helpers->items()) {
    if (value.is_string() && registry_key_matches(key, normalized_key)) {
      return value.get<std::string>();
    }
  }
  return std::nullopt;
}

std::map<std::string, std::string> ConfigFile::cred_helpers() const {
  std::map<std::string, std::string> helpers;
  if (const Json* object = find_member(m_json, "credHelpers"); object && object->is_object()) {
    for (const auto& [key, value] : object->items()) {
      if (value.is_string()) {
        helpers.emplace(key, value.get<std::string>());
      }
    }
  }
  return helpers;
}

bool ConfigFile::has_no_auth_settings() const {
  const Json* auths = find_member(m_json, "auths");
  const Json* helpers = find_member(m_json, "credHelpers");
  return (!auths || !auths->is_object() || auths->empty()) && creds_store().empty() &&
         (!helpers || !helpers->is_object() || helpers->empty());
}

bool ConfigFile::identity_enabled() const {
  const Json* settings = find_member(m_json, "regauth");
  const Json* identity =
      settings && settings->is_object() ? find_member(*settings, "identity") : nullptr;
  return !(identity && identity->is_boolean() && !identity->get<bool>());
}

bool ConfigFile::has_inline_secrets() const {
  const Json* auths = find_member(m_json, "auths");
  if (!auths || !auths->is_object()) {
    return false;
  }
  for (const auto& [key, entry] : auths->items()) {
    for (const char* field : {"auth", "password", "identitytoken", "registrytoken"}) {
      const Json* value = find_member(entry, field);
      if (value && value->is_string() && !value->get<std::string>().empty()) {
        return true;
      }
    }
  }
  return false;
}

} // namespace regauth::config
