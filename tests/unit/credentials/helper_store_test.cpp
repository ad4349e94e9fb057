#include "regauth/credentials/helper_store.hpp"

#include "support/fake_process_runner.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

using regauth::ErrorKind;
using regauth::credentials::Credentials;
using regauth::credentials::find_helper_program;
using regauth::credentials::HelperStore;
using regauth::credentials::is_valid_helper_name;
using regauth::credentials::ProcessOutcome;
using regauth::testing::FakeProcessRunner;
using regauth::testing::ScopedEnv;
using regauth::testing::TempDir;
using regauth::testing::write_file;
namespace fs = std::filesystem;

namespace {

constexpr std::chrono::milliseconds k_timeout{5000};
const std::string k_not_found = "credentials not found in native keychain\n";

// A PATH holding executable docker-credential-<name> programs for the life of the object.
class HelperPath {
public:
  explicit HelperPath(const std::vector<std::string>& names)
      : m_path(make_bin(m_temp, names)), m_env("PATH", m_path.string()) {}

  [[nodiscard]] fs::path program(const std::string& name) const {
    return m_path / ("docker-credential-" + name);
  }

private:
  static fs::path make_bin(const TempDir& temp, const std::vector<std::string>& names) {
    fs::path bin = temp / "bin";
    for (const auto& name : names) {
      write_file(bin / ("docker-credential-" + name), "#!/bin/sh\nexit 3\n", 0755);
    }
    fs::create_directories(bin);
    return bin;
  }

  TempDir m_temp;
  fs::path m_path;
  ScopedEnv m_env;
};

void make_executable(const fs::path& path) { write_file(path, "#!/bin/sh\nexit 3\n", 0755); }

} // namespace

TEST_CASE("helper store: get sends the server URL on stdin and only 'get' in argv",
          "[credentials]") {
  HelperPath path({"fake"});
  FakeProcessRunner runner;
  runner.script_exit(0, R"({"ServerURL":"r.example:5000","Username":"alice","Secret":"alicepw"})");
  HelperStore store("fake", runner, k_timeout);

  auto found = store.get("r.example:5000");
  REQUIRE(found);
  REQUIRE(found->has_value());
  CHECK((*found)->username == "alice");
  CHECK((*found)->password == "alicepw");

  REQUIRE(runner.requests().size() == 1);
  const auto& request = runner.requests()[0];
  CHECK(request.program == path.program("fake"));
  CHECK(request.program.is_absolute());
  CHECK(request.args == std::vector<std::string>{"get"});
  CHECK(request.input == "r.example:5000");
  CHECK(request.timeout == k_timeout);
  CHECK(store.description() == "credential helper docker-credential-fake");
}

TEST_CASE("helper store: each action has its argv and stdin, and no secret in argv",
          "[credentials]") {
  HelperPath path({"fake"});
  FakeProcessRunner runner;
  HelperStore store("fake", runner, k_timeout);
  const std::string secret = "s3cret-value";

  runner.script_exit(0, "");
  REQUIRE(store.store("r.example", Credentials{"alice", secret, "", ""}));
  runner.script_exit(0, "");
  REQUIRE(store.store("r.example", Credentials{"alice", "", secret, ""}));
  runner.script_exit(0, R"({"Username":"<token>","Secret":"s3cret-value"})");
  auto token = store.get("r.example");
  runner.script_exit(0, "");
  auto erased = store.erase("r.example");
  runner.script_exit(0, R"({"r.example":"alice"})");
  auto listed = store.list();

  REQUIRE(token);
  REQUIRE(token->has_value());
  CHECK((*token)->identity_token == secret);
  CHECK((*token)->username.empty());
  REQUIRE(erased);
  CHECK(*erased);
  REQUIRE(listed);
  CHECK(*listed == std::map<std::string, std::string>{{"r.example", "alice"}});

  const auto& requests = runner.requests();
  REQUIRE(requests.size() == 5);
  CHECK(requests[0].args == std::vector<std::string>{"store"});
  CHECK(nlohmann::json::parse(requests[0].input) ==
        nlohmann::json{{"ServerURL", "r.example"}, {"Username", "alice"}, {"Secret", secret}});
  CHECK(nlohmann::json::parse(requests[1].input) ==
        nlohmann::json{{"ServerURL", "r.example"}, {"Username", "<token>"}, {"Secret", secret}});
  CHECK(requests[2].args == std::vector<std::string>{"get"});
  CHECK(requests[3].args == std::vector<std::string>{"erase"});
  CHECK(requests[3].input == "r.example");
  CHECK(requests[4].args == std::vector<std::string>{"list"});
  for (const auto& request : requests) {
    CHECK(request.args.size() == 1);
    for (const auto& arg : request.args) {
      CHECK_THAT(arg, !Catch::Contains(secret));
    }
    CHECK_THAT(request.program.string(), !Catch::Contains(secret));
  }
}

TEST_CASE("helper store: the not-found answer is absence, not failure", "[credentials]") {
  HelperPath path({"fake"});
  FakeProcessRunner runner;
  HelperStore store("fake", runner, k_timeout);

  runner.script_exit(1, k_not_found);
  auto found = store.get("r.example");
  REQUIRE(found);
  CHECK_FALSE(found->has_value());

  runner.script_exit(0, R"({"ServerURL":"r.example","Username":"","Secret":""})");
  auto empty = store.get("r.example");
  REQUIRE(empty);
  CHECK_FALSE(empty->has_value());

  runner.script_exit(1, k_not_found);
  auto erased = store.erase("r.example");
  REQUIRE(erased);
  CHECK_FALSE(*erased);
}

TEST_CASE("helper store: a failing helper is an error naming helper, action, status and words",
          "[credentials]") {
  HelperPath path({"pass"});
  FakeProcessRunner runner;
  HelperStore store("pass", runner, k_timeout);

  runner.script_exit(1, "gpg: decryption failed: No secret key\n");
  auto found = store.get("r.example");
  REQUIRE_FALSE(found);
  CHECK(found.error().kind == ErrorKind::helper);
  CHECK(found.error().message == "getting credentials for r.example: docker-credential-pass get: "
                                 "exited with status 1: gpg: decryption failed: No secret key");

  runner.script_exit(2, "cannot store alicepw-secret today");
  auto stored = store.store("r.example", Credentials{"alice", "alicepw-secret", "", ""});
  REQUIRE_FALSE(stored);
  CHECK(stored.error().kind == ErrorKind::helper);
  CHECK_THAT(stored.error().message, Catch::Contains("docker-credential-pass store"));
  CHECK_THAT(stored.error().message, Catch::Contains("status 2"));
  CHECK_THAT(stored.error().message, Catch::Contains("cannot store [redacted] today"));
  CHECK_THAT(stored.error().message, !Catch::Contains("alicepw-secret"));

  runner.script_exit(4, "\x1b[31mboom\x1b[0m");
  auto erased = store.erase("r.example");
  REQUIRE_FALSE(erased);
  CHECK_THAT(erased.error().message, Catch::Contains("docker-credential-pass erase"));
  CHECK_THAT(erased.error().message, Catch::Contains("status 4"));
  CHECK(erased.error().message.find('\x1b') == std::string::npos);

  runner.script_exit(0, "not json");
  auto garbage = store.get("r.example");
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().kind == ErrorKind::helper);
  CHECK_THAT(garbage.error().message, Catch::Contains("docker-credential-pass"));
}

TEST_CASE("helper store: a timeout, a signal or too much output are errors", "[credentials]") {
  HelperPath path({"slow"});
  FakeProcessRunner runner;

  SECTION("timed out after whole seconds") {
    HelperStore store("slow", runner, std::chrono::milliseconds(5000));
    ProcessOutcome outcome;
    outcome.timed_out = true;
    outcome.signaled = true;
    outcome.signal = 9;
    runner.script(outcome);
    auto found = store.get("r.example");
    REQUIRE_FALSE(found);
    CHECK(found.error().kind == ErrorKind::helper);
    CHECK_THAT(found.error().message, Catch::Contains("docker-credential-slow get"));
    CHECK_THAT(found.error().message, Catch::Contains("no answer after 5 s"));
    CHECK_THAT(found.error().message, Catch::Contains("--helper-timeout"));
  }
  SECTION("timed out in less than a second") {
    HelperStore store("slow", runner, std::chrono::milliseconds(250));
    ProcessOutcome outcome;
    outcome.timed_out = true;
    runner.script(outcome);
    auto found = store.get("r.example");
    REQUIRE_FALSE(found);
    CHECK_THAT(found.error().message, Catch::Contains("no answer after 250 ms"));
  }
  SECTION("killed by a signal") {
    HelperStore store("slow", runner, k_timeout);
    ProcessOutcome outcome;
    outcome.signaled = true;
    outcome.signal = 11;
    runner.script(outcome);
    auto found = store.get("r.example");
    REQUIRE_FALSE(found);
    CHECK_THAT(found.error().message, Catch::Contains("killed by signal"));
  }
  SECTION("output too large") {
    HelperStore store("slow", runner, k_timeout);
    ProcessOutcome outcome;
    outcome.output_truncated = true;
    runner.script(outcome);
    auto listed = store.list();
    REQUIRE_FALSE(listed);
    CHECK_THAT(listed.error().message, Catch::Contains("docker-credential-slow list"));
    CHECK_THAT(listed.error().message, Catch::Contains("output larger than"));
  }
  SECTION("cannot be started") {
    HelperStore store("slow", runner, k_timeout);
    runner.script(regauth::make_error(ErrorKind::helper, "exec failed: Permission denied"));
    auto found = store.get("r.example");
    REQUIRE_FALSE(found);
    CHECK(found.error().kind == ErrorKind::helper);
    CHECK_THAT(found.error().message, Catch::Contains("docker-credential-slow get"));
    CHECK_THAT(found.error().message, Catch::Contains("Permission denied"));
  }
}

TEST_CASE("helper store: invalid helper names are refused without running anything",
          "[credentials]") {
  HelperPath path({"fake"});
  for (const std::string& name : std::vector<std::string>{
           "../x", "-rf", "a b", "a/b", "", ".hidden", "..", "x\n", "x;rm", std::string(65, 'a')}) {
    CAPTURE(name);
    CHECK_FALSE(is_valid_helper_name(name));
    FakeProcessRunner runner;
    HelperStore store(name, runner, k_timeout);
    auto found = store.get("r.example");
    REQUIRE_FALSE(found);
    CHECK(found.error().kind == ErrorKind::helper);
    CHECK_THAT(found.error().message, Catch::Contains("invalid credential helper name"));
    CHECK_FALSE(store.store("r.example", Credentials{"a", "b", "", ""}));
    CHECK_FALSE(store.erase("r.example"));
    CHECK_FALSE(store.list());
    CHECK(runner.requests().empty());
  }
  for (const std::string& name : std::vector<std::string>{
           "pass", "secretservice", "ecr-login", "gcloud", "a.b_c-d", std::string(64, 'a')}) {
    CAPTURE(name);
    CHECK(is_valid_helper_name(name));
  }
}

TEST_CASE("helper store: a helper missing from PATH is an error without running anything",
          "[credentials]") {
  HelperPath path({"other"});
  FakeProcessRunner runner;
  HelperStore store("missing", runner, k_timeout);
  auto found = store.get("r.example");
  REQUIRE_FALSE(found);
  CHECK_THAT(found.error().message, Catch::Contains("docker-credential-missing"));
  CHECK_THAT(found.error().message, Catch::Contains("not found on PATH"));
  CHECK(runner.requests().empty());
}

TEST_CASE("helper store: server URLs with control bytes never reach the helper", "[credentials]") {
  HelperPath path({"fake"});
  FakeProcessRunner runner;
  HelperStore store("fake", runner, k_timeout);
  const std::string smuggled = "r.example\nevil.example";
  auto found = store.get(smuggled);
  REQUIRE_FALSE(found);
  CHECK(found.error().kind == ErrorKind::usage);
  CHECK_FALSE(store.store(smuggled, Credentials{"a", "b", "", ""}));
  CHECK_FALSE(store.erase(smuggled));
  CHECK_FALSE(store.get(""));
  CHECK(runner.requests().empty());
}

TEST_CASE("helper store: a failing list is empty, a malformed list is an error", "[credentials]") {
  HelperPath path({"fake"});
  FakeProcessRunner runner;
  HelperStore store("fake", runner, k_timeout);
  runner.script_exit(1, k_not_found);
  auto empty = store.list();
  REQUIRE(empty);
  CHECK(empty->empty());
  REQUIRE(runner.requests().size() == 1);
  CHECK(runner.requests()[0].input == "unused");

  runner.script_exit(0, "[]");
  auto malformed = store.list();
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error().kind == ErrorKind::helper);
  CHECK_THAT(malformed.error().message, Catch::Contains("docker-credential-fake"));
}

TEST_CASE("helper store: PATH lookup skips empty and relative entries", "[credentials]") {
  TempDir temp;
  fs::path absolute = temp / "abs";
  make_executable(absolute / "docker-credential-x");
  // Traps in the current directory: an empty entry or a relative one would find these.
  make_executable(temp / "docker-credential-x");
  make_executable(temp / "relative/docker-credential-x");

  fs::path previous = fs::current_path();
  fs::current_path(temp.path());
  struct Restore {
    fs::path dir;
    ~Restore() { fs::current_path(dir); }
  } restore{previous};

  struct Case {
    std::string search_path;
    std::optional<fs::path> expected;
  };
  const std::vector<Case> cases = {
      {":relative:" + absolute.string(), absolute / "docker-credential-x"},
      {"relative::" + absolute.string() + ":", absolute / "docker-credential-x"},
      {absolute.string(), absolute / "docker-credential-x"},
      {":relative", std::nullopt},
      {"", std::nullopt},
      {":", std::nullopt},
      {".", std::nullopt},
      {"./relative", std::nullopt},
      {"/nonexistent:" + absolute.string(), absolute / "docker-credential-x"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.search_path);
    CHECK(find_helper_program("x", c.search_path) == c.expected);
  }
}

TEST_CASE("helper store: PATH lookup skips what is not an executable file", "[credentials]") {
  TempDir temp;
  write_file(temp / "plain/docker-credential-x", "#!/bin/sh\n", 0644);
  fs::create_directories(temp / "folder/docker-credential-x");
  make_executable(temp / "good/docker-credential-x");
  std::string search_path =
      (temp / "plain").string() + ":" + (temp / "folder").string() + ":" + (temp / "good").string();
  CHECK(find_helper_program("x", search_path) == temp / "good/docker-credential-x");
  CHECK_FALSE(find_helper_program("y", search_path));
  // A name that is not a helper name is never looked up, even when such a file exists.
  make_executable(temp / "good/docker-credential-a b");
  CHECK_FALSE(find_helper_program("a b", search_path));
  CHECK_FALSE(find_helper_program("../good/docker-credential-x", search_path));
}
