#include "regauth/credentials/credential_layers.hpp"
#include "regauth/credentials/file_store.hpp"
#include "regauth/credentials/keychain.hpp"
#include "regauth/util/base64.hpp"

#include "support/fake_process_runner.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using regauth::base64_encode;
using regauth::ErrorKind;
using regauth::Result;
using regauth::credentials::CredentialLayer;
using regauth::credentials::FileStore;
using regauth::credentials::get_from_layers;
using regauth::credentials::IdentityCredentials;
using regauth::credentials::IdentityLayer;
using regauth::credentials::IdentitySource;
using regauth::credentials::Listing;
using regauth::credentials::MemoryLayer;
using regauth::credentials::StoreLayer;

namespace {

std::string env_value(const std::string& key, const std::string& user, const std::string& pw) {
  return R"({"auths":{")" + key + R"(":{"auth":")" + base64_encode(user + ":" + pw) + R"("}}})";
}

// Serves one registry; answers with `user` when it has one, and counts the questions.
class OneRegistrySource final : public IdentitySource {
public:
  OneRegistrySource(std::string registry, std::optional<std::string> user)
      : m_registry(std::move(registry)), m_user(std::move(user)) {}
  [[nodiscard]] std::string name() const override { return "test"; }
  [[nodiscard]] bool serves(std::string_view registry) const override {
    return registry == m_registry;
  }
  Result<std::optional<IdentityCredentials>> get(const std::string& /*registry*/) override {
    ++asked;
    if (!m_user) {
      return std::optional<IdentityCredentials>();
    }
    IdentityCredentials found;
    found.credentials.username = *m_user;
    found.credentials.password = "short-lived";
    found.description = "test identity of " + *m_user;
    return std::optional<IdentityCredentials>(found);
  }
  [[nodiscard]] std::vector<std::string> configured_registries() const override {
    return {m_registry};
  }
  int asked = 0;

private:
  std::string m_registry;
  std::optional<std::string> m_user;
};

std::vector<std::unique_ptr<CredentialLayer>>
chain(const std::string& env, const std::filesystem::path& config,
      const std::shared_ptr<OneRegistrySource>& source) {
  std::vector<std::unique_ptr<CredentialLayer>> layers;
  layers.push_back(std::make_unique<MemoryLayer>(env));
  layers.push_back(std::make_unique<StoreLayer>(std::make_unique<FileStore>(config), "r.example"));
  layers.push_back(
      std::make_unique<IdentityLayer>(std::vector<std::shared_ptr<IdentitySource>>{source}));
  return layers;
}

} // namespace

TEST_CASE("credential layers: DOCKER_AUTH_CONFIG answers over the store, the store over the "
          "identity",
          "[credentials]") {
  regauth::testing::TempDir temp;
  auto config = temp / "config.json";
  regauth::testing::write_file(config, R"({"auths":{"r.example":{"auth":")" +
                                           base64_encode("filed:pw") + R"("}}})");
  auto source = std::make_shared<OneRegistrySource>("r.example", "robot");

  auto from_env =
      get_from_layers(chain(env_value("r.example", "env", "pw"), config, source), "r.example");
  REQUIRE(from_env);
  REQUIRE(*from_env);
  CHECK((*from_env)->credentials.username == "env");
  CHECK((*from_env)->source == "DOCKER_AUTH_CONFIG");
  CHECK_FALSE((*from_env)->from_identity);

  auto from_store =
      get_from_layers(chain(env_value("o.example", "env", "pw"), config, source), "r.example");
  REQUIRE(from_store);
  REQUIRE(*from_store);
  CHECK((*from_store)->credentials.username == "filed");
  CHECK((*from_store)->source == config.string());
  CHECK(source->asked == 0); // stored credentials always win

  regauth::testing::write_file(config, "{}");
  auto from_identity =
      get_from_layers(chain(env_value("o.example", "env", "pw"), config, source), "r.example");
  REQUIRE(from_identity);
  REQUIRE(*from_identity);
  CHECK((*from_identity)->credentials.username == "robot");
  CHECK((*from_identity)->from_identity);
  CHECK((*from_identity)->source == "test identity of robot");
}

TEST_CASE("credential layers: a failing layer stops the walk, never a fall back", "[credentials]") {
  regauth::testing::TempDir temp;
  auto config = temp / "config.json";
  regauth::testing::write_file(config, R"({"auths":{"r.example":{"auth":")" +
                                           base64_encode("filed:pw") + R"("}}})");
  auto source = std::make_shared<OneRegistrySource>("r.example", "robot");
  auto found = get_from_layers(chain(R"({"auths":[]})", config, source), "r.example");
  REQUIRE_FALSE(found);
  CHECK(found.error().kind == ErrorKind::config);
  CHECK_THAT(found.error().message, Catch::StartsWith("DOCKER_AUTH_CONFIG: "));

  Listing listing;
  MemoryLayer(R"({"auths":[]})").list(listing);
  CHECK(listing.registries.empty());
  REQUIRE(listing.warnings.size() == 1);
  CHECK_THAT(listing.warnings[0], Catch::StartsWith("DOCKER_AUTH_CONFIG: "));
}

TEST_CASE("credential layers: DOCKER_AUTH_CONFIG lists its entries as held in memory",
          "[credentials]") {
  Listing listing;
  MemoryLayer(env_value("https://R.Example/", "env", "pw")).list(listing);
  REQUIRE(listing.registries.size() == 1);
  CHECK(listing.registries[0].key == "r.example");
  CHECK(listing.registries[0].store == "DOCKER_AUTH_CONFIG");
  CHECK(listing.registries[0].username == "env");
  CHECK(listing.registries[0].in_memory);
  CHECK(listing.warnings.empty());
}

TEST_CASE("credential layers: an identity source standing in for a missing cloud helper warns, "
          "and without an identity fails",
          "[credentials]") {
  auto with = std::make_shared<OneRegistrySource>("r.example", "robot");
  IdentityLayer layer({with});
  layer.substitute_for("ecr-login", "credHelpers");
  auto found = layer.get("r.example");
  REQUIRE(found);
  REQUIRE(*found);
  REQUIRE((*found)->warnings.size() == 1);
  CHECK_THAT((*found)->warnings[0],
             Catch::StartsWith("docker-credential-ecr-login (credHelpers) is not installed"));

  auto without = std::make_shared<OneRegistrySource>("r.example", std::nullopt);
  IdentityLayer none({without});
  none.substitute_for("ecr-login", "credHelpers");
  auto failed = none.get("r.example");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind == ErrorKind::helper);

  // Without a substitute, no identity hands the question down.
  auto plain = IdentityLayer({without}).get("r.example");
  REQUIRE(plain);
  CHECK_FALSE(*plain);
}

TEST_CASE("keychain: erase_all removes every key's entries in one write and reports each key",
          "[credentials]") {
  regauth::testing::TempDir temp;
  auto path = temp / "config.json";
  regauth::testing::write_file(
      path, R"({"auths":{"a.example":{"auth":")" + base64_encode("a:pw") +
                R"("},"https://b.example/v1/":{"auth":")" + base64_encode("b:pw") +
                R"("},"c.example":{},"d.example":{"auth":")" + base64_encode("d:pw") + R"("}}})");
  regauth::testing::FakeProcessRunner runner;
  regauth::credentials::KeychainOptions options;
  options.config_path = path;
  regauth::credentials::Keychain keychain(options, runner);
  auto results = keychain.erase_all({"a.example", "b.example", "c.example", "x.example"});
  REQUIRE(results.size() == 4);
  for (const auto& result : results) {
    REQUIRE(result);
  }
  CHECK(results[0]->removed_from == std::vector<std::string>{path.string()});
  CHECK(results[1]->removed_from == std::vector<std::string>{path.string()});
  CHECK(results[2]->removed_from.empty()); // a `{}` placeholder is not a login
  CHECK(results[3]->removed_from.empty());
  auto after = regauth::config::ConfigFile::parse(*regauth::testing::read_file(path));
  REQUIRE(after);
  CHECK(after->auth_keys() == std::vector<std::string>{"d.example"});
}
