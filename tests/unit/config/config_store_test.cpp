#include "regauth/config/config_store.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using regauth::ErrorKind;
using regauth::Result;
using regauth::config::ConfigFile;
using regauth::config::Json;
using regauth::config::SaveOptions;
using regauth::config::update_config;
using regauth::testing::file_mode;
using regauth::testing::read_file;
using regauth::testing::TempDir;
using regauth::testing::write_file;
namespace fs = std::filesystem;

namespace {

const std::string k_with_secret = "{\n\t\"auths\": {\n\t\t\"r.example\": {\n\t\t\t\"auth\": "
                                  "\"YTpi\"\n\t\t}\n\t}\n}";
const std::string k_without_secret = "{\n\t\"auths\": {\n\t\t\"r.example\": {}\n\t}\n}";

// A change that files one registry's credentials.
Result<bool> add_entry(ConfigFile& config) {
  config.set_auth_entry("new.example", Json{{"auth", "bmV3OnB3"}});
  return true;
}

struct stat stat_of(const fs::path& path) {
  struct stat info {};
  REQUIRE(::lstat(path.c_str(), &info) == 0);
  return info;
}

bool same_file_untouched(const struct stat& before, const struct stat& after) {
  return before.st_ino == after.st_ino && before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
         before.st_mtim.tv_nsec == after.st_mtim.tv_nsec;
}

// Files in `dir` whose name marks them as regauth temp files.
std::vector<std::string> temp_files_in(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& item : fs::directory_iterator(dir)) {
    if (item.path().filename().string().find(".tmp-") != std::string::npos) {
      found.push_back(item.path().filename().string());
    }
  }
  return found;
}

// Runs as an unprivileged user for its life when the tests run as root, so that directory
// permissions mean something; does nothing otherwise.
class Unprivileged {
public:
  explicit Unprivileged(const fs::path& tree) {
    if (::geteuid() != 0) {
      return;
    }
    for (fs::path dir = tree; !dir.empty() && dir != dir.parent_path(); dir = dir.parent_path()) {
      if (dir.filename().string().rfind("regauth-unit-", 0) == 0) {
        REQUIRE(::chown(dir.c_str(), k_nobody, k_nobody) == 0);
        break;
      }
    }
    REQUIRE(::chown(tree.c_str(), k_nobody, k_nobody) == 0);
    for (const auto& item : fs::recursive_directory_iterator(tree)) {
      REQUIRE(::lchown(item.path().c_str(), k_nobody, k_nobody) == 0);
    }
    REQUIRE(::setegid(k_nobody) == 0);
    REQUIRE(::seteuid(k_nobody) == 0);
    m_active = true;
  }
  Unprivileged(const Unprivileged&) = delete;
  Unprivileged& operator=(const Unprivileged&) = delete;
  ~Unprivileged() {
    if (m_active) {
      (void)::seteuid(0);
      (void)::setegid(0);
    }
  }

private:
  static constexpr uid_t k_nobody = 65534;
  bool m_active = false;
};

} // namespace

TEST_CASE("config store: update creates a 0600 file in a 0700 folder", "[config]") {
  TempDir temp;
  fs::path path = temp / "home/.docker/config.json";
  auto saved = update_config(path, add_entry);
  REQUIRE(saved);
  CHECK(saved->written);
  CHECK(saved->warnings.empty());
  CHECK(file_mode(path) == 0600);
  CHECK(file_mode(temp / "home/.docker") == 0700);
  CHECK(file_mode(temp / "home") == 0700);
  CHECK(read_file(path) == "{\n\t\"auths\": {\n\t\t\"new.example\": {\n\t\t\t\"auth\": "
                           "\"bmV3OnB3\"\n\t\t}\n\t}\n}");
  CHECK(temp_files_in(path.parent_path()).empty());
}

TEST_CASE("config store: a missing file that nothing changes is not created", "[config]") {
  TempDir temp;
  fs::path path = temp / "config.json";
  auto saved = update_config(path, [](ConfigFile&) -> Result<bool> { return false; });
  REQUIRE(saved);
  CHECK_FALSE(saved->written);
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("config store: nothing changed means the file is not rewritten", "[config]") {
  TempDir temp;
  fs::path path = temp / "config.json";
  const std::string compact = R"({"auths":{"r.example":{}}})";

  SECTION("the change reports no change") {
    write_file(path, compact);
    auto before = stat_of(path);
    auto saved = update_config(path, [](ConfigFile& config) -> Result<bool> {
      (void)config.auth_keys(); // looks, touches nothing
      return false;
    });
    REQUIRE(saved);
    CHECK_FALSE(saved->written);
    CHECK(same_file_untouched(before, stat_of(path)));
    CHECK(read_file(path) == compact);
  }
  SECTION("the change reports a change that leaves the bytes as they were") {
    write_file(path, k_without_secret);
    auto before = stat_of(path);
    auto saved = update_config(path, [](ConfigFile& config) -> Result<bool> {
      config.set_auth_entry("r.example", Json::object());
      return true;
    });
    REQUIRE(saved);
    CHECK_FALSE(saved->written);
    CHECK(same_file_untouched(before, stat_of(path)));
  }
  SECTION("the change fails") {
    write_file(path, compact);
    auto before = stat_of(path);
    auto saved = update_config(path, [](ConfigFile& config) -> Result<bool> {
      config.set_auth_entry("x.example", Json::object());
      return regauth::make_error(ErrorKind::usage, "changed my mind");
    });
    REQUIRE_FALSE(saved);
    CHECK(saved.error().message == "changed my mind");
    CHECK(same_file_untouched(before, stat_of(path)));
  }
}

TEST_CASE("config store: symlinks are followed and stay links", "[config]") {
  TempDir temp;
  fs::path real = temp / "real/config.json";
  fs::path link = temp / "dotdocker/config.json";
  fs::create_directories(link.parent_path());

  std::string target_text;
  SECTION("absolute link") {
    write_file(real, k_without_secret);
    target_text = real.string();
  }
  SECTION("relative link") {
    write_file(real, k_without_secret);
    target_text = "../real/config.json";
  }
  SECTION("dangling link") {
    fs::create_directories(real.parent_path());
    target_text = real.string();
  }
  SECTION("link to a link") {
    write_file(real, k_without_secret);
    fs::create_symlink("config.json", temp / "real/alias.json");
    target_text = "../real/alias.json";
  }
  fs::create_symlink(target_text, link);

  auto resolved = regauth::config::resolve_write_target(link);
  REQUIRE(resolved);
  CHECK(fs::weakly_canonical(*resolved) == fs::weakly_canonical(real));

  auto saved = update_config(link, add_entry);
  REQUIRE(saved);
  CHECK(saved->written);
  CHECK(fs::is_symlink(link));
  CHECK(fs::read_symlink(link) == target_text);
  auto content = read_file(real);
  REQUIRE(content);
  CHECK_THAT(*content, Catch::Contains("new.example"));
  CHECK(fs::is_regular_file(fs::symlink_status(real)));
  CHECK(temp_files_in(link.parent_path()).empty());
  CHECK(temp_files_in(real.parent_path()).empty());
}

TEST_CASE("config store: a world-readable file holding secrets is tightened", "[config]") {
  TempDir temp;
  fs::path path = temp / "config.json";

  SECTION("secrets already in the file") {
    write_file(path, k_with_secret, 0644);
    auto saved = update_config(path, [](ConfigFile& config) -> Result<bool> {
      config.set_creds_store("pass");
      return true;
    });
    REQUIRE(saved);
    CHECK(saved->written);
    CHECK(file_mode(path) == 0600);
    REQUIRE(saved->warnings.size() == 1);
    CHECK_THAT(saved->warnings[0], Catch::Contains(path.string()));
    CHECK_THAT(saved->warnings[0], Catch::Contains("0644"));
    CHECK_THAT(saved->warnings[0], Catch::Contains("0600"));
  }
  SECTION("a secret added to the file") {
    write_file(path, k_without_secret, 0644);
    auto saved = update_config(path, add_entry);
    REQUIRE(saved);
    CHECK(file_mode(path) == 0600);
    CHECK(saved->warnings.size() == 1);
  }
  SECTION("a group-readable file") {
    write_file(path, k_with_secret, 0640);
    auto saved = update_config(path, add_entry);
    REQUIRE(saved);
    CHECK(file_mode(path) == 0600);
    CHECK(saved->warnings.size() == 1);
  }
}

TEST_CASE("config store: a world-readable file without secrets keeps its mode", "[config]") {
  TempDir temp;
  fs::path path = temp / "config.json";
  write_file(path, R"({"credsStore":"pass"})", 0644);
  auto saved = update_config(path, [](ConfigFile& config) -> Result<bool> {
    config.set_auth_entry("r.example", Json::object());
    return true;
  });
  REQUIRE(saved);
  CHECK(saved->written);
  CHECK(saved->warnings.empty());
  CHECK(file_mode(path) == 0644);
}

TEST_CASE("config store: a malformed file is never written", "[config]") {
  TempDir temp;
  fs::path path = temp / "config.json";
  const std::string broken = "{\n\t\"auths\": {\n\t\t\"r.example\": {\"auth\": \"YTpi\"\n}";
  write_file(path, broken);
  auto before = stat_of(path);
  bool called = false;
  auto saved = update_config(path, [&](ConfigFile& config) -> Result<bool> {
    called = true;
    return add_entry(config);
  });
  REQUIRE_FALSE(saved);
  CHECK(saved.error().kind == ErrorKind::config);
  CHECK_THAT(saved.error().message, Catch::Contains(path.string()));
  CHECK_THAT(saved.error().message, Catch::Contains("line 4 column"));
  CHECK_FALSE(called);
  CHECK(read_file(path) == broken);
  CHECK(same_file_untouched(before, stat_of(path)));

  auto loaded = regauth::config::load_config(path);
  REQUIRE_FALSE(loaded);
  CHECK_THAT(loaded.error().message, Catch::StartsWith("reading " + path.string() + ": line 4"));
}

TEST_CASE("config store: loading a missing or empty file gives an empty config", "[config]") {
  TempDir temp;
  auto missing = regauth::config::load_config(temp / "missing.json");
  REQUIRE(missing);
  CHECK_FALSE(missing->existed);
  CHECK(missing->config.auth_keys().empty());

  write_file(temp / "empty.json", "");
  auto empty = regauth::config::load_config(temp / "empty.json");
  REQUIRE(empty);
  CHECK(empty->existed);
  CHECK(empty->original_bytes.empty());

  auto folder = regauth::config::load_config(temp.path());
  REQUIRE_FALSE(folder);
  CHECK_THAT(folder.error().message, Catch::Contains("not a regular file"));
}

TEST_CASE("config store: a read-only folder fails and leaves the file intact", "[config]") {
  TempDir temp;
  fs::path dir = temp / "ro";
  fs::path path = dir / "config.json";
  write_file(path, k_without_secret);

  SECTION("no lock file yet") {}
  SECTION("a lock file from an earlier run") { write_file(dir / "config.json.lock", "", 0600); }

  REQUIRE(::chmod(dir.c_str(), 0500) == 0);
  Result<regauth::config::SaveReport> saved = regauth::make_error(ErrorKind::internal, "not run");
  {
    Unprivileged unprivileged(dir);
    saved = update_config(path, add_entry);
  }
  REQUIRE(::chmod(dir.c_str(), 0700) == 0);
  REQUIRE_FALSE(saved);
  CHECK((saved.error().kind == ErrorKind::io || saved.error().kind == ErrorKind::config));
  CHECK_THAT(saved.error().message, Catch::Contains(dir.string()));
  CHECK_THAT(saved.error().message, Catch::Contains("Permission denied"));
  CHECK(read_file(path) == k_without_secret);
  CHECK(temp_files_in(dir).empty());
}

TEST_CASE("config store: a held lock times out naming its holder", "[config]") {
  TempDir temp;
  fs::path path = temp / "config.json";
  write_file(path, k_without_secret);
  fs::path lock_path = temp / "config.json.lock";

  // Hold the lock as another regauth process would: flock, then the pid in the file.
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  std::string pid = std::to_string(::getpid()) + "\n";
  REQUIRE(::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size()));

  bool called = false;
  auto start = std::chrono::steady_clock::now();
  auto saved = update_config(
      path,
      [&](ConfigFile& config) -> Result<bool> {
        called = true;
        return add_entry(config);
      },
      SaveOptions{std::chrono::milliseconds(200)});
  auto waited = std::chrono::steady_clock::now() - start;
  ::close(fd);

  REQUIRE_FALSE(saved);
  CHECK_FALSE(called);
  CHECK_THAT(saved.error().message, Catch::Contains("timed out after 200 ms"));
  CHECK_THAT(saved.error().message, Catch::Contains(lock_path.string()));
  CHECK_THAT(saved.error().message,
             Catch::Contains("held by process " + std::to_string(::getpid())));
  CHECK(waited >= std::chrono::milliseconds(200));
  CHECK(waited < std::chrono::seconds(5));
  CHECK(read_file(path) == k_without_secret);

  // Released, the same update goes through.
  auto retried = update_config(path, add_entry, SaveOptions{std::chrono::milliseconds(200)});
  REQUIRE(retried);
  CHECK(retried->written);
}

TEST_CASE("config store: an update inside an update waits for the outer lock", "[config]") {
  TempDir temp;
  fs::path path = temp / "config.json";
  auto outer = update_config(path, [&](ConfigFile& config) -> Result<bool> {
    auto inner = update_config(path, add_entry, SaveOptions{std::chrono::milliseconds(50)});
    REQUIRE_FALSE(inner);
    CHECK_THAT(inner.error().message, Catch::Contains("held by process"));
    config.set_creds_store("pass");
    return true;
  });
  REQUIRE(outer);
  CHECK(outer->written);
}

TEST_CASE("config store: an update over an unchanged file applies to the cached reading, "
          "without parsing again",
          "[config]") {
  TempDir temp;
  auto path = temp / "config.json";
  const std::string original = "{\n\t\"auths\": {},\n\t\"psFormat\": \"table\"\n}";
  write_file(path, original);
  regauth::config::ConfigCache cache;
  REQUIRE(cache.get(path));
  // Mark the cached document: only a change applied to it (not to a fresh parse) can see this.
  Json marked = cache.loaded->config.json();
  marked["marker"] = "cached";
  cache.loaded->config = *ConfigFile::parse(marked.dump());
  bool saw_marker = false;
  auto saved = update_config(
      path,
      [&](ConfigFile& config) -> Result<bool> {
        saw_marker = config.json().contains("marker");
        config.set_creds_store("pass");
        return true;
      },
      {}, &cache);
  REQUIRE(saved);
  CHECK(saw_marker);
  CHECK(saved->written);
  // The cache holds what the file now holds, and a second update reuses it again.
  REQUIRE(cache.loaded);
  CHECK(cache.loaded->original_bytes == read_file(path));
  CHECK(cache.loaded->config.creds_store() == "pass");
}

TEST_CASE("config store: an update over a file changed since it was cached parses it again",
          "[config]") {
  TempDir temp;
  auto path = temp / "config.json";
  write_file(path, "{\n\t\"auths\": {}\n}");
  regauth::config::ConfigCache cache;
  REQUIRE(cache.get(path));
  // Another process writes meanwhile: its entry must survive.
  write_file(path, "{\n\t\"auths\": {},\n\t\"credsStore\": \"other\"\n}");
  auto saved = update_config(
      path,
      [&](ConfigFile& config) -> Result<bool> {
        CHECK(config.creds_store() == "other");
        config.set_auth_entry("r.example", Json::object());
        return true;
      },
      {}, &cache);
  REQUIRE(saved);
  auto reread = ConfigFile::parse(*read_file(path));
  REQUIRE(reread);
  CHECK(reread->creds_store() == "other");
  CHECK(reread->auth_entry("r.example") != nullptr);
  REQUIRE(cache.loaded);
  CHECK(cache.loaded->original_bytes == read_file(path));

  // A failed change leaves no cache that could disagree with the file.
  auto failed = update_config(
      path,
      [&](ConfigFile& config) -> Result<bool> {
        config.set_creds_store("half-done");
        return regauth::make_error(ErrorKind::config, "stop");
      },
      {}, &cache);
  REQUIRE_FALSE(failed);
  CHECK_FALSE(cache.loaded);
}
