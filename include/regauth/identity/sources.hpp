// The identity sources regauth knows, and what they may read of the world. Each source is one
// file in src/identity/; sources read the environment through `Environment` only, so that unit
// tests hand them a made-up one.
#pragma once

#include "regauth/credentials/identity_source.hpp"
#include "regauth/credentials/process_runner.hpp"
#include "regauth/http/http_client.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace regauth::identity {

struct Environment {
  // An environment variable; nullopt when unset. Empty values are returned as they are.
  std::function<std::optional<std::string>(std::string_view name)> variable;
  // The user's home directory ($HOME, else the password database); empty when unknown.
  std::filesystem::path home;
  // A client for identity endpoints (token services, cloud APIs, metadata servers), with the
  // command's transport policy. One per call site; may be empty in unit tests of pure parts.
  std::function<std::unique_ptr<http::HttpClient>()> make_http_client;
  // The same, that may also speak plain HTTP to `host_port`: a metadata server (link-local,
  // plain HTTP by design). May be empty in unit tests.
  std::function<std::unique_ptr<http::HttpClient>(const std::string& host_port)>
      make_plain_http_client;
  // Runs helper programs (AWS credential_process); may be null.
  credentials::ProcessRunner* process_runner = nullptr;
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
  // Where the machine describes its hardware (sys_vendor, product_name, ...): metadata servers
  // are only asked on machines that say they are such an instance.
  std::filesystem::path dmi_dir = "/sys/class/dmi/id";
};

// The process's own environment: getenv, $HOME, the real clock and DMI folder.
Environment system_environment();

// Every identity source, in the order they are asked.
std::vector<std::unique_ptr<credentials::IdentitySource>>
make_identity_sources(const Environment& environment);

// GitHub Actions: GITHUB_TOKEN as GITHUB_ACTOR for ghcr.io, only when GITHUB_ACTIONS=true.
std::unique_ptr<credentials::IdentitySource> make_github_actions_source(const Environment&);

// GitLab CI: CI_REGISTRY_USER / CI_REGISTRY_PASSWORD, else gitlab-ci-token / CI_JOB_TOKEN, for
// the host of CI_REGISTRY only, and only when GITLAB_CI=true.
std::unique_ptr<credentials::IdentitySource> make_gitlab_ci_source(const Environment&);

// Google application default credentials (key file, gcloud's file, metadata server) for
// *-docker.pkg.dev, gcr.io and *.gcr.io, as oauth2accesstoken.
std::unique_ptr<credentials::IdentitySource> make_google_source(const Environment&);

// Amazon ECR (ACCOUNT.dkr.ecr.REGION.amazonaws.com and the other partitions, public.ecr.aws):
// AWS credentials from the SDKs' chain, exchanged for a registry password with ECR's
// GetAuthorizationToken (src/identity/aws_ecr.cpp).
std::unique_ptr<credentials::IdentitySource> make_aws_ecr_source(const Environment&);

} // namespace regauth::identity
