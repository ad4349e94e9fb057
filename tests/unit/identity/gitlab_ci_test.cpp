#include "regauth/identity/sources.hpp"

#include "support/fake_environment.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using regauth::identity::make_gitlab_ci_source;
using regauth::testing::environment_of;

namespace {

const std::map<std::string, std::string> k_job = {{"GITLAB_CI", "true"},
                                                  {"CI_REGISTRY", "gitlab.example.com:5050"},
                                                  {"CI_REGISTRY_USER", "gitlab-ci-token"},
                                                  {"CI_REGISTRY_PASSWORD", "glcbt-registry-secret"},
                                                  {"CI_JOB_TOKEN", "glcbt-job-secret"},
                                                  {"CI_JOB_ID", "4711"}};

} // namespace

TEST_CASE("gitlab ci: CI_REGISTRY gets CI_REGISTRY_USER and CI_REGISTRY_PASSWORD", "[identity]") {
  auto source = make_gitlab_ci_source(environment_of(k_job));
  CHECK(source->name() == "gitlab-ci");
  CHECK(source->configured_registries() == std::vector<std::string>{"gitlab.example.com:5050"});
  auto found = source->get("gitlab.example.com:5050");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->credentials.username == "gitlab-ci-token");
  CHECK((*found)->credentials.password == "glcbt-registry-secret");
  CHECK((*found)->description == "GitLab CI CI_REGISTRY_PASSWORD of gitlab-ci-token (job 4711)");
  CHECK_FALSE((*found)->expires_at);
}

TEST_CASE("gitlab ci: without the registry pair the job token goes as gitlab-ci-token",
          "[identity]") {
  auto job = k_job;
  job.erase("CI_REGISTRY_PASSWORD");
  job["CI_REGISTRY"] = "Registry.GitLab.com";
  auto found = make_gitlab_ci_source(environment_of(job))->get("registry.gitlab.com");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->credentials.username == "gitlab-ci-token");
  CHECK((*found)->credentials.password == "glcbt-job-secret");
  CHECK((*found)->description.find("CI_JOB_TOKEN") != std::string::npos);
  CHECK((*found)->description.find("secret") == std::string::npos);

  job.erase("CI_JOB_TOKEN");
  auto nothing = make_gitlab_ci_source(environment_of(job))->get("registry.gitlab.com");
  REQUIRE(nothing);
  CHECK_FALSE(*nothing);
}

TEST_CASE("gitlab ci: no other host and no other runner gets the job's credentials", "[identity]") {
  auto source = make_gitlab_ci_source(environment_of(k_job));
  for (const char* host :
       {"gitlab.example.com", "gitlab.example.com:5051", "docker.io", "https://index.docker.io/v1/",
        "example.com:5050", "gitlab.example.com.evil.example:5050", "ghcr.io"}) {
    CAPTURE(host);
    CHECK_FALSE(source->serves(host));
    auto found = source->get(host);
    REQUIRE(found);
    CHECK_FALSE(*found);
  }
  for (const char* runner : {"false", "1", "TRUE", ""}) {
    CAPTURE(runner);
    auto job = k_job;
    job["GITLAB_CI"] = runner;
    auto elsewhere = make_gitlab_ci_source(environment_of(job));
    CHECK_FALSE(elsewhere->serves("gitlab.example.com:5050"));
    CHECK(elsewhere->configured_registries().empty());
    auto found = elsewhere->get("gitlab.example.com:5050");
    REQUIRE(found);
    CHECK_FALSE(*found);
  }
  auto job = k_job;
  job.erase("CI_REGISTRY");
  CHECK(make_gitlab_ci_source(environment_of(job))->configured_registries().empty());
  // A CI_REGISTRY naming Docker Hub would hand the job token to Docker Hub: never.
  job["CI_REGISTRY"] = "docker.io";
  auto hub = make_gitlab_ci_source(environment_of(job));
  CHECK_FALSE(hub->serves("https://index.docker.io/v1/"));
}
