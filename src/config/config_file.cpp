#include "regauth/config/config_file.hpp"

#include "regauth/config/registry_key.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
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

// SAX consumer that builds the document in one pass, linear in its size, and records every
// repeated key with both lines. nlohmann's own ordered_json parser looks each new key up in a
// vector (quadratic in the keys of an object), and an ordered_json object is a vector of
// `pair<const std::string, Json>` that copies every member, deeply, each time it grows. So the
// members of an open container are gathered in a frame of their own (reused by the next
// container at that depth) and moved into their Json object once, at its end.
class DocumentBuilder : public nlohmann::json_sax<Json> {
public:
  explicit DocumentBuilder(const std::size_t* line_feeds) : m_line_feeds(line_feeds) {}

  std::size_t position = 0;
  std::string what;
  bool too_deep = false;
  Json root;
  std::vector<DuplicateKey> duplicates;

  bool null() override { return place(Json(nullptr)); }
  bool boolean(bool value) override { return place(Json(value)); }
  bool number_integer(number_integer_t value) override { return place(Json(value)); }
  bool number_unsigned(number_unsigned_t value) override { return place(Json(value)); }
  bool number_float(number_float_t value, const string_t& /*raw*/) override {
    return place(Json(value));
  }
  bool string(string_t& value) override { return place(Json(std::move(value))); }
  bool binary(binary_t& /*value*/) override { return false; }

  bool start_object(std::size_t /*size*/) override { return open(true); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t /*size*/) override { return open(false); }
  bool end_array() override { return close(); }

  bool key(string_t& value) override {
    Frame& frame = m_frames[m_depth - 1];
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
  // Positions in an object's members by the hash of their key, once it has k_small_object
  // keys: open addressing with linear probing in one flat table (a node-based hash map costs an
  // allocation per key, which dominates on an object of 100,000 keys).
  class KeyIndex {
  public:
    [[nodiscard]] bool empty() const { return m_slots.empty(); }

    // The position whose key `is_key` accepts, among those with hash `hash`; npos if none.
    template <typename IsKey>
    [[nodiscard]] std::size_t find(std::size_t full_hash, const IsKey& is_key) const {
      const auto hash = static_cast<std::uint32_t>(full_hash);
      const std::size_t mask = m_slots.size() - 1;
      for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
        const Slot& slot = m_slots[at];
        if (slot.position == k_empty) {
          return std::string::npos;
        }
        if (slot.hash == hash && is_key(slot.position)) {
          return slot.position;
        }
      }
    }

    // Adds a position whose key is not in the index yet.
    void insert(std::size_t full_hash, std::size_t member) {
      const auto hash = static_cast<std::uint32_t>(full_hash);
      if (2 * (m_used + 1) > m_slots.size()) {
        std::vector<Slot> old(std::max<std::size_t>(64, 2 * m_slots.size()));
        old.swap(m_slots);
        m_used = 0;
        for (const Slot& slot : old) {
          if (slot.position != k_empty) {
            place(slot);
          }
        }
      }
      place({hash, static_cast<std::uint32_t>(member)});
    }

  private:
    // 8 bytes a slot (an object of 100,000 keys: 2 MiB, not 4): the low half of the hash, and
    // a position (a member takes at least 4 bytes of JSON: 2^32 of them need 16 GiB of input).
    static constexpr std::uint32_t k_empty = std::numeric_limits<std::uint32_t>::max();
    struct Slot {
      std::uint32_t hash = 0;
      std::uint32_t position = k_empty;
    };

    void place(const Slot& slot) {
      const std::size_t mask = m_slots.size() - 1;
      std::size_t at = slot.hash & mask;
      while (m_slots[at].position != k_empty) {
        at = (at + 1) & mask;
      }
      m_slots[at] = slot;
      ++m_used;
    }

    std::vector<Slot> m_slots; // a power of two in size, at most half full
    std::size_t m_used = 0;
  };

  // An open container.
  struct Frame {
    bool is_object = false;
    // An object's members in file order (a repeated key keeps its first place), with the line
    // of each one's latest key.
    std::vector<std::pair<std::string, Json>> members;
    std::vector<std::size_t> lines;
    KeyIndex index;
    Json::array_t elements; // an array's elements
    std::string key;        // the key just read, not yet given a value
    std::size_t key_line = 0;
    // Where the open child container goes: its member's position, or its array index.
    std::size_t child = 0;
    // A repeated key whose last value replaced this container: the dropped value, compared
    // with this one once it is complete.
    std::optional<Json> dropped;
    std::size_t duplicate = 0; // index into `duplicates`
  };

  static constexpr std::size_t k_small_object = 16;

  // The position of `key` in `frame`'s members, or npos.
  static std::size_t find_key(const Frame& frame, const std::string& key) {
    if (!frame.index.empty()) {
      return frame.index.find(std::hash<std::string>{}(key), [&](std::size_t member) {
        return frame.members[member].first == key;
      });
    }
    for (std::size_t i = 0; i < frame.members.size(); ++i) {
      if (frame.members[i].first == key) {
        return i;
      }
    }
    return std::string::npos;
  }

  // Indexes the members from k_small_object on (below that, a search in order costs less).
  static void index_keys(Frame& frame) {
    const std::size_t count = frame.members.size();
    if (count < k_small_object) {
      return;
    }
    if (frame.index.empty()) {
      for (std::size_t i = 0; i < count; ++i) {
        frame.index.insert(std::hash<std::string>{}(frame.members[i].first), i);
      }
      return;
    }
    frame.index.insert(std::hash<std::string>{}(frame.members[count - 1].first), count - 1);
  }

  // Appends a member under the current key of `frame`; returns its position.
  static std::size_t add_member(Frame& frame, Json value) {
    frame.members.emplace_back(std::move(frame.key), std::move(value));
    frame.lines.push_back(frame.key_line);
    index_keys(frame);
    return frame.members.size() - 1;
  }

  // Puts a scalar where the parser is: the root, the end of an array, or under the current key
  // of an object (a repeated key: its last value, in the first one's place).
  bool place(Json value) {
    if (m_depth == 0) {
      root = std::move(value);
      return true;
    }
    Frame& frame = m_frames[m_depth - 1];
    if (!frame.is_object) {
      frame.elements.push_back(std::move(value));
      return true;
    }
    std::size_t seen = find_key(frame, frame.key);
    if (seen == std::string::npos) {
      add_member(frame, std::move(value));
      return true;
    }
    Json& existing = frame.members[seen].second;
    duplicates.push_back(
        {path_to(frame.key), frame.lines[seen], frame.key_line, false, existing != value});
    frame.lines[seen] = frame.key_line;
    existing = std::move(value);
    return true;
  }

  bool open(bool is_object) {
    if (m_depth >= k_max_depth) {
      too_deep = true;
      return false;
    }
    if (m_frames.size() == m_depth) {
      m_frames.emplace_back();
    }
    Frame& frame = m_frames[m_depth];
    frame.is_object = is_object;
    frame.members.clear();
    frame.lines.clear();
    if (!frame.index.empty()) {
      frame.index = KeyIndex();
    }
    frame.elements.clear();
    frame.key.clear();
    frame.dropped.reset();
    if (m_depth > 0) {
      Frame& parent = m_frames[m_depth - 1];
      if (!parent.is_object) {
        parent.child = parent.elements.size();
      } else if (std::size_t seen = find_key(parent, parent.key); seen == std::string::npos) {
        parent.child = add_member(parent, Json());
      } else {
        parent.child = seen;
        Json& existing = parent.members[seen].second;
        DuplicateKey duplicate{path_to(parent.key), parent.lines[seen], parent.key_line, false,
                               false};
        parent.lines[seen] = parent.key_line;
        if (m_depth == 1 && is_object && existing.is_object() && merges_when_repeated(parent.key)) {
          // Go decodes into the map it already has: continue that object with its keys.
          duplicate.merged = true;
          auto& kept = static_cast<Members&>(existing.get_ref<Object&>());
          frame.members.reserve(kept.size());
          for (auto& [name, value] : kept) {
            frame.members.emplace_back(name, std::move(value));
          }
          frame.lines = std::move(m_merge_lines[parent.key]);
          frame.lines.resize(frame.members.size());
          if (frame.members.size() >= k_small_object) {
            index_keys(frame);
          }
        } else {
          frame.dropped = std::move(existing);
          frame.duplicate = duplicates.size();
        }
        existing = Json();
        duplicates.push_back(std::move(duplicate));
      }
    }
    ++m_depth;
    return true;
  }

  bool close() {
    Frame& frame = m_frames[m_depth - 1];
    Json value;
    if (frame.is_object) {
      value = Json::object();
      auto& members = static_cast<Members&>(value.get_ref<Object&>());
      members.reserve(frame.members.size());
      for (auto& [name, member] : frame.members) {
        members.emplace_back(std::move(name), std::move(member));
      }
      frame.members.clear();
    } else {
      value = std::move(frame.elements);
      frame.elements = Json::array_t();
    }
    if (frame.dropped) {
      duplicates[frame.duplicate].differs = *frame.dropped != value;
      frame.dropped.reset();
    }
    --m_depth;
    if (m_depth == 0) {
      root = std::move(value);
      return true;
    }
    Frame& parent = m_frames[m_depth - 1];
    if (!parent.is_object) {
      parent.elements.push_back(std::move(value));
      return true;
    }
    Json& slot = parent.members[parent.child].second;
    if (m_depth == 1 && frame.is_object &&
        merges_when_repeated(parent.members[parent.child].first)) {
      // The lines of a top-level map field's keys, for a repeated one to continue.
      m_merge_lines[parent.members[parent.child].first] = std::move(frame.lines);
    }
    slot = std::move(value);
    return true;
  }

  // "\"auths\".\"r.example\"" for `key` in the innermost object.
  [[nodiscard]] std::string path_to(const std::string& key) const {
    std::string path;
    for (std::size_t depth = 1; depth < m_depth; ++depth) {
      const Frame& parent = m_frames[depth - 1];
      path += (parent.is_object ? quoted_key(parent.members[parent.child].first)
                                : "[" + std::to_string(parent.child) + "]") +
              ".";
    }
    return path + quoted_key(key);
  }

  const std::size_t* m_line_feeds;
  // m_frames[0, m_depth) are the open containers, outermost first; the rest wait for reuse.
  std::vector<Frame> m_frames;
  std::size_t m_depth = 0;
  // The lines of the keys of each top-level map field, for a repeated one to continue.
  std::unordered_map<std::string, std::vector<std::size_t>> m_merge_lines;
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

// True for the bytes that Go's encoder writes as they are: printable ASCII but `"`, `\`, `<`, `>`
// and `&`, and every byte of a multi-byte character (U+2028 and U+2029 start with 0xE2).
bool is_plain_byte(unsigned char c) {
  return c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != 0xE2;
}

void append_go_string(std::string& out, const std::string& text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    // Runs of bytes written as they are go in at once.
    std::size_t plain = i;
    while (plain < text.size() && is_plain_byte(static_cast<unsigned char>(text[plain]))) {
      ++plain;
    }
    if (plain > i) {
      out.append(text, i, plain - i);
      i = plain;
      if (i == text.size()) {
        break;
      }
    }
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
    for (const auto& [key, item] : value.get_ref<const Json::object_t&>()) {
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
  config.m_parsed_size = bytes.size();
  return config;
}

std::string ConfigFile::serialize() const {
  std::string out;
  // A rewrite is about as long as the file it came from.
  out.reserve(m_parsed_size + m_parsed_size / 16 + 64);
  append_go_value(out, m_json, 0);
  return out;
}

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

namespace {

// The keys of `auths` that `matches` accepts: `exact` first when it is there, then the others in
// file order. One pass, no copy of the keys it does not keep.
template <typename Matches>
std::vector<std::string> matching_keys(const Json& json, std::string_view exact, Matches matches) {
  std::vector<std::string> keys;
  const Json* auths = find_member(json, "auths");
  if (auths == nullptr || !auths->is_object()) {
    return keys;
  }
  bool has_exact = false;
  for (const auto& [key, entry] : auths->get_ref<const Json::object_t&>()) {
    if (key == exact) {
      has_exact = true;
    } else if (matches(key)) {
      keys.push_back(key);
    }
  }
  if (has_exact) {
    keys.insert(keys.begin(), std::string(exact));
  }
  return keys;
}

} // namespace

std::vector<std::string> ConfigFile::matching_auth_keys(std::string_view normalized_key) const {
  return matching_keys(m_json, normalized_key, [&](const std::string& key) {
    return registry_key_matches(key, normalized_key);
  });
}

std::vector<std::string>
ConfigFile::matching_auth_file_keys(std::string_view normalized_key) const {
  return matching_keys(m_json, normalized_key, [&](const std::string& key) {
    auto normalized = normalize_auth_file_key(key);
    return normalized && *normalized == normalized_key;
  });
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

std::size_t ConfigFile::erase_auth_entries(const std::unordered_set<std::string_view>& keys) {
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

std::size_t ConfigFile::erase_auth_entries_at(const std::vector<std::size_t>& positions) {
  auto auths = m_json.find("auths");
  if (positions.empty() || auths == m_json.end() || !auths->is_object()) {
    return 0;
  }
  auto& members = static_cast<Json::object_t::Container&>(auths->get_ref<Json::object_t&>());
  std::vector<bool> doomed(members.size(), false);
  for (std::size_t position : positions) {
    if (position < members.size()) {
      doomed[position] = true;
    }
  }
  // One pass, as erase_auth_entries.
  Json::object_t::Container kept;
  kept.reserve(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (!doomed[i]) {
      kept.emplace_back(members[i].first, std::move(members[i].second));
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
