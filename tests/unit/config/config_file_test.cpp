#include "regauth/config/config_file.hpp"

#include <catch2/catch.hpp>

#include <iterator>
#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::config::ConfigFile;
using regauth::config::Json;
using regauth::config::serialize_go_style;

namespace {

ConfigFile parse_ok(const std::string& bytes) {
  auto parsed = ConfigFile::parse(bytes);
  if (!parsed) {
    FAIL("parse failed: " << parsed.error().message);
  }
  return *parsed;
}

// A config as the Docker CLI writes it, with fields regauth does not know.
const std::string k_docker_written = "{\n"
                                     "\t\"auths\": {\n"
                                     "\t\t\"a.example\": {\n"
                                     "\t\t\t\"auth\": \"YTpi\",\n"
                                     "\t\t\t\"email\": \"a@example.com\"\n"
                                     "\t\t},\n"
                                     "\t\t\"c.example\": {}\n"
                                     "\t},\n"
                                     "\t\"psFormat\": \"table {{.ID}}\",\n"
                                     "\t\"HttpHeaders\": {\n"
                                     "\t\t\"User-Agent\": \"x\"\n"
                                     "\t},\n"
                                     "\t\"currentContext\": \"ctx\",\n"
                                     "\t\"features\": {\n"
                                     "\t\t\"buildkit\": \"true\"\n"
                                     "\t}\n"
                                     "}";

} // namespace

TEST_CASE("config file: empty and whitespace-only input is an empty config", "[config]") {
  for (const std::string input : {"", " ", "\n", " \t\r\n  \n", "\xEF\xBB\xBF", "\xEF\xBB\xBF\n"}) {
    CAPTURE(input);
    auto config = parse_ok(input);
    CHECK(config.json() == Json::object());
    CHECK(config.auth_keys().empty());
    CHECK(config.has_no_auth_settings());
    CHECK(config.serialize() == "{}");
  }
  CHECK(ConfigFile().serialize() == "{}");
}

TEST_CASE("config file: a UTF-8 BOM is accepted and never written", "[config]") {
  auto config = parse_ok("\xEF\xBB\xBF{\"auths\":{\"r.example\":{\"auth\":\"YTpi\"}}}");
  CHECK(config.auth_keys() == std::vector<std::string>{"r.example"});
  std::string written = config.serialize();
  CHECK(written.rfind("\xEF\xBB\xBF", 0) == std::string::npos);
  CHECK(written.front() == '{');
}

TEST_CASE("config file: malformed JSON names line and column", "[config]") {
  // The column is that of the last byte of the offending token (nlohmann's position).
  struct Case {
    std::string input;
    std::string place;
  };
  const std::vector<Case> cases = {
      {"{", "line 1 column 2"},
      {"{\"auths\": }", "line 1 column 11"},
      {"{\n\t\"auths\": {\n\t\t\"a\": x\n\t}\n}", "line 3 column 8"},
      {"{\n  \"auths\": {},\n  \"credsStore\": \"pass\"\n  \"x\": 1\n}", "line 4 column 5"},
      {"{}\n{}", "line 2 column 1"},
      {"\xEF\xBB\xBF{\n,", "line 2 column 1"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto parsed = ConfigFile::parse(c.input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().kind == ErrorKind::config);
    CHECK_THAT(parsed.error().message, Catch::StartsWith(c.place + ": "));
    CHECK_THAT(parsed.error().message, !Catch::Contains("json.exception"));
  }
}

TEST_CASE("config file: wrong types are config errors naming the field", "[config]") {
  struct Case {
    std::string input;
    std::vector<std::string> words;
  };
  const std::vector<Case> cases = {
      {"[]", {"top level"}},
      {"\"text\"", {"top level"}},
      {"{\"auths\": []}", {"\"auths\""}},
      {"{\"auths\": \"x\"}", {"\"auths\""}},
      {"{\"auths\": {\"r.example\": \"YTpi\"}}", {"\"auths\"", "\"r.example\""}},
      {"{\"auths\": {\"r.example\": {\"auth\": 5}}}", {"\"r.example\"", "\"auth\""}},
      {"{\"auths\": {\"r.example\": {\"identitytoken\": {}}}}", {"\"identitytoken\""}},
      {"{\"credsStore\": 1}", {"\"credsStore\""}},
      {"{\"credsStore\": {}}", {"\"credsStore\""}},
      {"{\"credHelpers\": []}", {"\"credHelpers\""}},
      {"{\"credHelpers\": {\"r.example\": true}}", {"\"credHelpers\"", "\"r.example\""}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto parsed = ConfigFile::parse(c.input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().kind == ErrorKind::config);
    for (const auto& word : c.words) {
      CHECK_THAT(parsed.error().message, Catch::Contains(word));
    }
  }
}

TEST_CASE("config file: null fields are accepted as absent", "[config]") {
  auto config = parse_ok(R"({"auths": null, "credsStore": null, "credHelpers": null})");
  CHECK(config.auth_keys().empty());
  CHECK(config.creds_store().empty());
  CHECK(config.cred_helpers().empty());
  CHECK(config.has_no_auth_settings());
}

TEST_CASE("config file: serialization matches the Docker CLI byte for byte", "[config]") {
  const std::string expected = "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5001\": {\n\t\t\t\"auth\": "
                               "\"YWxpY2U6YWxpY2Vwdw==\"\n\t\t}\n\t}\n}";
  REQUIRE(expected.size() == 78);

  ConfigFile built;
  built.set_auth_entry("127.0.0.1:5001", Json{{"auth", "YWxpY2U6YWxpY2Vwdw=="}});
  CHECK(built.serialize() == expected);

  // Compact input is rewritten in the Docker CLI's layout; its own output is a fixed point.
  auto compact = parse_ok(R"({"auths":{"127.0.0.1:5001":{"auth":"YWxpY2U6YWxpY2Vwdw=="}}})");
  CHECK(compact.serialize() == expected);
  CHECK(parse_ok(expected).serialize() == expected);

  CHECK(parse_ok(k_docker_written).serialize() == k_docker_written);
}

TEST_CASE("config file: erasing the last entry leaves an empty auths object", "[config]") {
  ConfigFile config;
  config.set_auth_entry("127.0.0.1:5001", Json{{"auth", "YWxpY2U6YWxpY2Vwdw=="}});
  CHECK(config.erase_auth_entry("127.0.0.1:5001"));
  CHECK_FALSE(config.erase_auth_entry("127.0.0.1:5001"));
  CHECK(config.serialize() == "{\n\t\"auths\": {}\n}");
  CHECK(parse_ok("{\"auths\":{}}").serialize() == "{\n\t\"auths\": {}\n}");
  CHECK_FALSE(ConfigFile().erase_auth_entry("r.example"));
}

TEST_CASE("config file: erasing many entries at once keeps the others in their order", "[config]") {
  auto config = parse_ok(R"({"auths":{"a.example":{},"b.example":{"auth":"YTpi"},"c.example":{},)"
                         R"("d.example":{"email":"x"}},"psFormat":"table"})");
  CHECK(config.erase_auth_entries({"a.example", "c.example", "missing.example"}) == 2);
  CHECK(config.auth_keys() == std::vector<std::string>{"b.example", "d.example"});
  CHECK(config.json().at("auths").at("d.example").at("email") == "x");
  CHECK(config.erase_auth_entries({}) == 0);
  CHECK(ConfigFile().erase_auth_entries({"a.example"}) == 0);
}

TEST_CASE("config file: erasing entries by position keeps the others in their order, with "
          "their values",
          "[config]") {
  auto config = parse_ok(R"({"auths":{"a.example":{},"b.example":{"auth":"YTpi"},"c.example":{},)"
                         R"("d.example":{"email":"x"},"e.example":{}},"psFormat":"table"})");
  // Out of order, repeated, and past the end.
  CHECK(config.erase_auth_entries_at({4, 0, 2, 2, 9}) == 3);
  CHECK(config.auth_keys() == std::vector<std::string>{"b.example", "d.example"});
  CHECK(config.json().at("auths").at("b.example").at("auth") == "YTpi");
  CHECK(config.json().at("auths").at("d.example").at("email") == "x");
  CHECK(config.json().at("psFormat") == "table");
  CHECK(config.erase_auth_entries_at({}) == 0);
  CHECK(config.erase_auth_entries_at({2}) == 0);
  CHECK(ConfigFile().erase_auth_entries_at({0}) == 0);
}

TEST_CASE("config file: strings are escaped as Go escapes them", "[config]") {
  struct Case {
    std::string value;
    std::string written;
  };
  const std::vector<Case> cases = {
      {"plain", "\"plain\""},
      {"a<b>&c", "\"a\\u003cb\\u003e\\u0026c\""},
      {"line\u2028sep\u2029para", "\"line\\u2028sep\\u2029para\""},
      {"q\"b\\s", "\"q\\\"b\\\\s\""},
      {"\n\r\t", "\"\\n\\r\\t\""},
      {"\b\f", "\"\\b\\f\""},
      {std::string("\x01\x1f\0", 3), "\"\\u0001\\u001f\\u0000\""},
      {"\x7f", "\"\x7f\""},
      {"caf\xC3\xA9 \xE2\x82\xAC", "\"caf\xC3\xA9 \xE2\x82\xAC\""},
      {"/slash", "\"/slash\""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CHECK(serialize_go_style(Json(c.value)) == c.written);
  }
  // Keys are escaped too.
  CHECK(serialize_go_style(Json{{"<k>", 1}}) == "{\n\t\"\\u003ck\\u003e\": 1\n}");
}

TEST_CASE("config file: nested values are indented with tabs", "[config]") {
  auto config = parse_ok(R"({"a":[1,{"b":[]},"x",true,null],"c":{},"d":{"e":{"f":-2.5}}})");
  CHECK(config.serialize() == "{\n"
                              "\t\"a\": [\n"
                              "\t\t1,\n"
                              "\t\t{\n"
                              "\t\t\t\"b\": []\n"
                              "\t\t},\n"
                              "\t\t\"x\",\n"
                              "\t\ttrue,\n"
                              "\t\tnull\n"
                              "\t],\n"
                              "\t\"c\": {},\n"
                              "\t\"d\": {\n"
                              "\t\t\"e\": {\n"
                              "\t\t\t\"f\": -2.5\n"
                              "\t\t}\n"
                              "\t}\n"
                              "}");
}

TEST_CASE("config file: unknown fields survive set and erase with their order", "[config]") {
  auto config = parse_ok(k_docker_written);
  config.set_auth_entry("b.example", Json{{"auth", "Yjpj"}});
  CHECK(config.auth_keys() == std::vector<std::string>{"a.example", "b.example", "c.example"});

  std::vector<std::string> top_level;
  for (const auto& [name, value] : config.json().items()) {
    top_level.push_back(name);
  }
  CHECK(top_level ==
        std::vector<std::string>{"auths", "psFormat", "HttpHeaders", "currentContext", "features"});

  // Replacing an entry keeps its place and whatever the caller kept in it.
  Json entry = *config.auth_entry("a.example");
  entry["auth"] = "YTpj";
  config.set_auth_entry("a.example", entry);
  CHECK(config.auth_keys() == std::vector<std::string>{"a.example", "b.example", "c.example"});
  CHECK(config.auth_entry("a.example")->at("email") == "a@example.com");

  entry["auth"] = "YTpi";
  config.set_auth_entry("a.example", entry);
  CHECK(config.erase_auth_entry("b.example"));
  CHECK(config.serialize() == k_docker_written);
}

TEST_CASE("config file: new auth keys go where a sorted auths keeps them", "[config]") {
  struct Case {
    std::vector<std::string> existing;
    std::string added;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {{}, "m.example", {"m.example"}},
      {{"b.example", "d.example"}, "a.example", {"a.example", "b.example", "d.example"}},
      {{"b.example", "d.example"}, "c.example", {"b.example", "c.example", "d.example"}},
      {{"b.example", "d.example"}, "e.example", {"b.example", "d.example", "e.example"}},
      {{"https://index.docker.io/v1/", "localhost:5000"},
       "127.0.0.1:5001",
       {"127.0.0.1:5001", "https://index.docker.io/v1/", "localhost:5000"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.added);
    ConfigFile config;
    for (const auto& key : c.existing) {
      config.set_auth_entry(key, Json::object());
    }
    config.set_auth_entry(c.added, Json{{"auth", "YTpi"}});
    CHECK(config.auth_keys() == c.expected);
  }
}

TEST_CASE("config file: a new auths object goes first", "[config]") {
  auto config = parse_ok(R"({"psFormat":"x","credsStore":"pass"})");
  config.set_auth_entry("r.example", Json::object());
  CHECK(config.serialize() == "{\n\t\"auths\": {\n\t\t\"r.example\": {}\n\t},\n\t\"psFormat\": "
                              "\"x\",\n\t\"credsStore\": \"pass\"\n}");
}

TEST_CASE("config file: matching auth keys include legacy spellings", "[config]") {
  auto config = parse_ok(R"({"auths": {
    "https://r.example": {"auth": "YTpi"},
    "r.example.evil.test": {"auth": "YTpi"},
    "r.example": {"auth": "YTpi"},
    "http://r.example/v1/": {"auth": "YTpi"},
    "r.example:5000": {"auth": "YTpi"},
    "https://index.docker.io/v1/": {"auth": "YTpi"},
    "docker.io": {"auth": "YTpi"}
  }})");
  CHECK(config.matching_auth_keys("r.example") ==
        std::vector<std::string>{"r.example", "https://r.example", "http://r.example/v1/"});
  CHECK(config.matching_auth_keys("r.example:5000") == std::vector<std::string>{"r.example:5000"});
  CHECK(config.matching_auth_keys("https://index.docker.io/v1/") ==
        std::vector<std::string>{"https://index.docker.io/v1/", "docker.io"});
  CHECK(config.matching_auth_keys("other.example").empty());

  auto legacy_only = parse_ok(R"({"auths": {"https://r.example/v2/": {"auth": "YTpi"}}})");
  CHECK(legacy_only.matching_auth_keys("r.example") ==
        std::vector<std::string>{"https://r.example/v2/"});
  CHECK(legacy_only.auth_entry("r.example") == nullptr);
  REQUIRE(legacy_only.auth_entry("https://r.example/v2/") != nullptr);
}

TEST_CASE("config file: credHelpers lookup prefers the exact key", "[config]") {
  auto config = parse_ok(R"({"credsStore": "desktop", "credHelpers": {
    "https://legacy.example/": "legacy",
    "both.example": "exact",
    "https://both.example": "spelled",
    "gcr.io": "gcloud",
    "https://index.docker.io/v1/": "hub"
  }})");
  struct Case {
    std::string key;
    std::optional<std::string> helper;
  };
  const std::vector<Case> cases = {
      {"legacy.example", "legacy"},
      {"both.example", "exact"},
      {"gcr.io", "gcloud"},
      {"https://index.docker.io/v1/", "hub"},
      {"gcr.io:443", std::nullopt},
      {"us.gcr.io", std::nullopt},
      {"other.example", std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CHECK(config.cred_helper(c.key) == c.helper);
  }
  CHECK(config.creds_store() == "desktop");
  CHECK(config.cred_helpers().size() == 5);
  CHECK(config.cred_helpers().at("gcr.io") == "gcloud");
  CHECK_FALSE(ConfigFile().cred_helper("gcr.io"));

  ConfigFile set;
  set.set_creds_store("pass");
  CHECK(set.creds_store() == "pass");
  CHECK_FALSE(set.has_no_auth_settings());
}

TEST_CASE("config file: auth settings and inline secrets are detected", "[config]") {
  struct Case {
    std::string input;
    bool no_auth_settings;
    bool inline_secrets;
  };
  const std::vector<Case> cases = {
      {"{}", true, false},
      {R"({"psFormat": "x"})", true, false},
      {R"({"auths": {}})", true, false},
      {R"({"credsStore": ""})", true, false},
      {R"({"credHelpers": {}})", true, false},
      {R"({"auths": {"r.example": {}}})", false, false},
      {R"({"auths": {"r.example": {"auth": ""}}})", false, false},
      {R"({"auths": {"r.example": {"username": "alice", "email": "a@b"}}})", false, false},
      {R"({"auths": {"r.example": {"auth": "YTpi"}}})", false, true},
      {R"({"auths": {"r.example": {"password": "pw"}}})", false, true},
      {R"({"auths": {"r.example": {"identitytoken": "t"}}})", false, true},
      {R"({"auths": {"r.example": {"registrytoken": "t"}}})", false, true},
      {R"({"auths": {"a": {}, "b": {"auth": "YTpi"}}})", false, true},
      {R"({"credsStore": "pass"})", false, false},
      {R"({"credHelpers": {"gcr.io": "gcloud"}})", false, false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto config = parse_ok(c.input);
    CHECK(config.has_no_auth_settings() == c.no_auth_settings);
    CHECK(config.has_inline_secrets() == c.inline_secrets);
  }
}

TEST_CASE("config file: deep nesting is an error, not a crash", "[config]") {
  const std::size_t depth = 10000;
  const std::vector<std::string> inputs = {
      std::string(depth, '[') + std::string(depth, ']'),
      std::string(depth, '['),
      "{\"auths\":" + std::string(depth, '[') + std::string(depth, ']') + "}",
      [&] {
        std::string nested;
        for (std::size_t i = 0; i < depth; ++i) {
          nested += "{\"a\":";
        }
        nested += "1";
        return nested + std::string(depth, '}');
      }(),
  };
  for (const auto& input : inputs) {
    auto parsed = ConfigFile::parse(input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().kind == ErrorKind::config);
    CHECK_THAT(parsed.error().message, Catch::Contains("nested deeper"));
  }
  // Moderate nesting in an unknown field is fine.
  auto moderate =
      ConfigFile::parse("{\"x\":" + std::string(100, '[') + std::string(100, ']') + "}");
  CHECK(moderate);
}

TEST_CASE("config file: a parse error never quotes the text it broke on (it may be a secret)",
          "[config]") {
  const std::string secret = "c2VjcmV0OnBhc3N3b3Jk"; // base64 of "secret:password"
  for (const std::string& bytes : {"{\"auths\":{\"x\":{\"auth\":\"" + secret + "\x01\"}}}",
                                   "{\"auths\":{\"x\":{\"auth\":\"" + secret + "\" \"y\"}}}",
                                   "{\"auths\":{\"x\":{\"auth\":" + secret + "}}}"}) {
    auto parsed = ConfigFile::parse(bytes);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().message.find("line 1 column") != std::string::npos);
    CHECK(parsed.error().message.find(secret) == std::string::npos);
    CHECK(parsed.error().message.find("c2Vj") == std::string::npos);
  }
}

TEST_CASE("config file: repeated keys are read as Go reads them, with both lines", "[config]") {
  auto parsed =
      regauth::config::ConfigFile::parse("{\n"
                                         " \"auths\": {\"a.example\": {\"auth\": \"YTpi\"}},\n"
                                         " \"auths\": {\n"
                                         "  \"b.example\": {},\n"
                                         "  \"a.example\": {\"auth\": \"Yzpk\"}\n"
                                         " },\n"
                                         " \"credsStore\": \"x\",\n"
                                         " \"credsStore\": \"x\",\n"
                                         " \"psFormat\": \"1\", \"psFormat\": \"2\"\n"
                                         "}");
  REQUIRE(parsed);
  CHECK(parsed->auth_keys() == std::vector<std::string>{"a.example", "b.example"});
  CHECK(parsed->auth_entry("a.example")->at("auth") == "Yzpk");
  CHECK(parsed->json().at("psFormat") == "2");
  const auto& duplicates = parsed->duplicate_keys();
  REQUIRE(duplicates.size() == 4);
  CHECK(duplicates[0].path == "\"auths\"");
  CHECK(duplicates[0].merged);
  CHECK_FALSE(duplicates[0].differs);
  CHECK(duplicates[1].path == "\"auths\".\"a.example\"");
  CHECK(duplicates[1].first_line == 2);
  CHECK(duplicates[1].second_line == 5);
  CHECK(duplicates[1].differs);
  CHECK(duplicates[2].path == "\"credsStore\"");
  CHECK_FALSE(duplicates[2].differs);
  CHECK(duplicates[3].path == "\"psFormat\"");
  CHECK(duplicates[3].first_line == 9);
  CHECK(duplicates[3].second_line == 9);
  REQUIRE(parsed->lossy_duplicate() != nullptr);
  CHECK(parsed->lossy_duplicate()->path == "\"auths\".\"a.example\"");
}

TEST_CASE("config file: a file without repeated keys has none, at any size", "[config]") {
  std::string text = "{\"auths\":{";
  for (int i = 0; i < 5000; ++i) {
    text +=
        (i ? "," : "") + std::string("\"r") + std::to_string(i) + ".example\":{\"auth\":\"YTpi\"}";
  }
  text += "}}";
  auto parsed = regauth::config::ConfigFile::parse(text);
  REQUIRE(parsed);
  CHECK(parsed->auth_keys().size() == 5000);
  CHECK(parsed->duplicate_keys().empty());
  CHECK(parsed->lossy_duplicate() == nullptr);
  auto again = regauth::config::ConfigFile::parse(parsed->serialize());
  REQUIRE(again);
  CHECK(again->json() == parsed->json());
}

namespace {

// `{"k0": 0, ..., "k<count-1>": <count-1>}` on one line, each member followed by `extra`.
std::string numbered_members(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += (i ? ", " : "") + std::string("\"k") + std::to_string(i) + "\": " + std::to_string(i);
  }
  return text;
}

} // namespace

TEST_CASE("config file: repeated keys are found at depth 1, 2 and 3, in small and big objects",
          "[config]") {
  // Objects of 3 keys are searched in order, objects of 40 through a hash index: both must see
  // the same repeats, at every depth, with the last value kept in the first one's place.
  for (int size : {3, 40}) {
    INFO("object of " << size << " keys");
    const std::string members = numbered_members(size);
    auto parsed = ConfigFile::parse("{" + members + ", \"k1\": \"last\",\n" +     // line 1
                                    "\"x\": {" + members + ", \"k2\": 2,\n" +     // line 2
                                    "\"y\": [{" + members + ",\n\"k0\": {}}]}}"); // lines 3-4
    REQUIRE(parsed);
    const Json& json = parsed->json();
    CHECK(json.size() == static_cast<std::size_t>(size) + 1);
    CHECK(json.begin().key() == "k0");
    CHECK(json.at("k1") == "last");
    CHECK(std::next(json.begin()).key() == "k1");
    CHECK(json.at("x").at("k2") == 2);
    CHECK(json.at("x").at("y").at(0).at("k0") == Json::object());
    CHECK(json.at("x").at("y").at(0).begin().key() == "k0");
    const auto& duplicates = parsed->duplicate_keys();
    REQUIRE(duplicates.size() == 3);
    CHECK(duplicates[0].path == "\"k1\"");
    CHECK(duplicates[0].first_line == 1);
    CHECK(duplicates[0].second_line == 1);
    CHECK(duplicates[0].differs);
    CHECK(duplicates[1].path == "\"x\".\"k2\"");
    CHECK(duplicates[1].first_line == 2);
    CHECK(duplicates[1].second_line == 2);
    CHECK_FALSE(duplicates[1].differs);
    CHECK(duplicates[2].path == "\"x\".\"y\".[0].\"k0\"");
    CHECK(duplicates[2].first_line == 3);
    CHECK(duplicates[2].second_line == 4);
    CHECK(duplicates[2].differs);
    REQUIRE(parsed->lossy_duplicate() != nullptr);
    CHECK(parsed->lossy_duplicate()->path == "\"k1\"");
  }
}

TEST_CASE("config file: a repeated key read three times names each pair of lines", "[config]") {
  auto parsed = ConfigFile::parse("{\"a\": 1,\n\"a\": 1,\n\"a\": [2]}");
  REQUIRE(parsed);
  CHECK(parsed->json().at("a") == Json::array({2}));
  const auto& duplicates = parsed->duplicate_keys();
  REQUIRE(duplicates.size() == 2);
  CHECK(duplicates[0].first_line == 1);
  CHECK(duplicates[0].second_line == 2);
  CHECK_FALSE(duplicates[0].differs);
  CHECK(duplicates[1].first_line == 2);
  CHECK(duplicates[1].second_line == 3);
  CHECK(duplicates[1].differs);
}

TEST_CASE("config file: a repeated object with the same content is not lossy", "[config]") {
  auto parsed =
      ConfigFile::parse("{\"x\": {\"a\": [1, {\"b\": 2}]},\n\"x\": {\"a\": [1, {\"b\": 2}]}}");
  REQUIRE(parsed);
  REQUIRE(parsed->duplicate_keys().size() == 1);
  CHECK_FALSE(parsed->duplicate_keys()[0].merged);
  CHECK_FALSE(parsed->duplicate_keys()[0].differs);
  CHECK(parsed->lossy_duplicate() == nullptr);
}

TEST_CASE("config file: a repeated big auths merges into the first, keys and lines kept",
          "[config]") {
  std::string first;
  for (int i = 0; i < 40; ++i) {
    first += (i ? ",\n" : "") + std::string("\"r") + std::to_string(i) + ".example\": {}";
  }
  // Entry i of the first auths is on line i + 1, the second auths starts on line 41.
  auto parsed =
      ConfigFile::parse("{\"auths\": {" + first + "},\n\"auths\": {\"new.example\": {},\n" +
                        "\"r7.example\": {\"auth\": \"YTpi\"}}}");
  REQUIRE(parsed);
  auto keys = parsed->auth_keys();
  REQUIRE(keys.size() == 41);
  CHECK(keys[7] == "r7.example");
  CHECK(keys[40] == "new.example");
  CHECK(parsed->auth_entry("r7.example")->at("auth") == "YTpi");
  const auto& duplicates = parsed->duplicate_keys();
  REQUIRE(duplicates.size() == 2);
  CHECK(duplicates[0].path == "\"auths\"");
  CHECK(duplicates[0].merged);
  CHECK(duplicates[1].path == "\"auths\".\"r7.example\"");
  CHECK(duplicates[1].first_line == 8);
  CHECK(duplicates[1].second_line == 42);
  CHECK(duplicates[1].differs);
}

TEST_CASE("config file: an object of 100,000 keys reads and writes back byte for byte",
          "[config]") {
  std::string text = "{\n\t\"auths\": {";
  for (int i = 0; i < 100000; ++i) {
    text += (i ? ",\n" : "\n") + std::string("\t\t\"r") + std::to_string(i) +
            ".example:5000\": {\n\t\t\t\"auth\": \"dXNlcjpwdw==\"\n\t\t}";
  }
  text += "\n\t},\n\t\"psFormat\": \"table {{.ID}}\\u003c\"\n}";
  auto parsed = ConfigFile::parse(text);
  REQUIRE(parsed);
  CHECK(parsed->duplicate_keys().empty());
  auto keys = parsed->auth_keys();
  REQUIRE(keys.size() == 100000);
  CHECK(keys[99999] == "r99999.example:5000");
  CHECK(parsed->serialize() == text);
  CHECK(parsed->matching_auth_keys("r99999.example:5000") ==
        std::vector<std::string>{"r99999.example:5000"});
}
