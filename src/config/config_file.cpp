#include "regauth/config/config_file.hpp"

#include "regauth/config/registry_key.hpp"

#include <algorithm>
#include <cstdio>

namespace regauth::config {
namespace {

constexpr std::string_view k_utf8_bom = "\xEF\xBB\xBF";
constexpr std::size_t k_max_depth = 512;

// SAX consumer that only records where parsing failed, so errors can name line and column
// without exceptions.
struct ErrorLocator : nlohmann::json_sax<Json> {
  std::size_t position = 0;
  std::string what;
  std::size_t depth = 0;
  bool too_deep = false;

  bool null() override { return true; }
  bool boolean(bool /*value*/) override { return true; }
  bool number_integer(number_integer_t /*value*/) override { return true; }
  bool number_unsigned(number_unsigned_t /*value*/) override { return true; }
  bool number_float(number_float_t /*value*/, const string_t& /*raw*/) override { return true; }
  bool string(string_t& /*value*/) override { return true; }
  bool binary(binary_t& /*value*/) override { return true; }
  bool start_object(std::size_t /*size*/) override { return enter(); }
  bool key(string_t& /*value*/) override { return true; }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t /*size*/) override { return enter(); }
  bool end_array() override { return leave(); }
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

  bool enter() {
    if (++depth > k_max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  bool leave() {
    --depth;
    return true;
  }
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
  ErrorLocator locator;
  bool ok = Json::sax_parse(bytes.begin(), bytes.end(), &locator,
                            nlohmann::detail::input_format_t::json, true);
  if (!ok) {
    if (locator.too_deep) {
      return make_error(ErrorKind::config,
                        "nested deeper than " + std::to_string(k_max_depth) + " levels");
    }
    return make_error(ErrorKind::config,
                      line_column(bytes, locator.position) + ": " + locator.what);
  }
  Json json = Json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (json.is_discarded()) {
    return make_error(ErrorKind::config, "not valid JSON");
  }
  if (auto checked = check_types(json); !checked) {
    return checked.error();
  }
  return ConfigFile(std::move(json));
}

std::string ConfigFile::serialize() const { return serialize_go_style(m_json); }

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
  // sorted, so the Docker CLI's rewrite of it differs in nothing else.
  Json rebuilt = Json::object();
  bool inserted = false;
  for (auto& [name, value] : auths.items()) {
    if (!inserted && name > key) {
      rebuilt[key] = std::move(entry);
      inserted = true;
    }
    rebuilt[name] = std::move(value);
  }
  if (!inserted) {
    rebuilt[key] = std::move(entry);
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
