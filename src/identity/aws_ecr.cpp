// Amazon ECR: AWS credentials from the standard chain, exchanged for a registry password with

#include "regauth/util/strings.hpp"
// ECR's GetAuthorizationToken, signed by libcurl (SigV4). The chain, in the AWS SDKs' order:
//   1. environment keys: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN];
//   2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, STS AssumeRoleWithWebIdentity
//      (an unsigned call: the token is the proof);
//   3. the profile (AWS_PROFILE, else "default") of the shared credentials and config files:
//      role_arn + web_identity_token_file, static keys, credential_process;
//   4. container credentials (ECS, EKS Pod Identity): AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or
//      _FULL_URI, the latter only to the hosts the SDKs allow;
//   5. EC2 instance metadata (IMDSv2), only on a machine whose DMI says EC2 or when
//      AWS_EC2_METADATA_SERVICE_ENDPOINT names the endpoint; AWS_EC2_METADATA_DISABLED=true
//      turns it off.
// The AWS keys go only to AWS's API endpoints (or those the AWS_ENDPOINT_URL* variables name);
// the registry receives the ECR password only.
#include "regauth/http/error_body.hpp"
#include "regauth/http/url.hpp"
#include "regauth/identity/aws.hpp"
#include "regauth/identity/sources.hpp"
#include "regauth/util/safe_file.hpp"
#include "regauth/util/terminal_text.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace regauth::identity {
namespace {

using aws::AwsCredentials;
using aws::EcrHost;
using Clock = std::chrono::system_clock;

constexpr std::uint64_t k_max_file = 1 << 20;
constexpr std::size_t k_max_answer = 64 * 1024;
// Metadata endpoints answer at once or not at all; the SDKs wait one second.
constexpr std::chrono::milliseconds k_metadata_timeout{2000};
constexpr std::chrono::milliseconds k_process_timeout{60000};

struct Resolved {
  AwsCredentials credentials;
  std::string description; // "AWS web identity, role pusher"
  std::string region;      // a region the configuration names (for STS), or ""
};

// Reads a file a user or the environment names: regular files only (a FIFO is refused at once,
// never waited on), at most k_max_file bytes.
Result<std::string> read_named_file(const std::filesystem::path& path, const std::string& what) {
  auto text = read_regular_file(path, ErrorKind::io, k_max_file);
  if (!text) {
    Error error = text.error();
    if (error.kind == ErrorKind::not_found) {
      error.kind = ErrorKind::io; // a file the environment names, not a registry's 404
    }
    return error.with_context("reading " + what);
  }
  return text;
}

bool file_exists(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

std::string trim(std::string text) {
  auto not_space = [](unsigned char c) { return std::isspace(c) == 0; };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
  return text;
}

bool equals_true(const std::optional<std::string>& value) {
  return value && http::equals_ignore_case(trim(*value), "true");
}

std::string format_time(Clock::time_point when) {
  std::time_t seconds = Clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// "AKIA…WXYZ": enough to tell keys apart, the access key id being no secret but still private.
std::string mask_key_id(const std::string& id) {
  if (id.size() < 12) {
    return "…";
  }
  return id.substr(0, 4) + "…" + id.substr(id.size() - 4);
}

// "pusher" from "arn:aws:iam::123456789012:role/ci/pusher".
std::string role_name(const std::string& arn) {
  auto slash = arn.rfind('/');
  return escape_for_terminal(slash == std::string::npos ? arn : arn.substr(slash + 1), 64);
}

// The status line's words: "403 Forbidden" would need the reason phrase; the number suffices.
Error aws_error(const std::string& operation, const http::Response& response, bool sender_auth) {
  std::string words = aws::describe_aws_error(response.body);
  ErrorKind kind = http::kind_for_status(response.status);
  if (sender_auth && response.status >= 400 && response.status < 500 && response.status != 429) {
    kind = ErrorKind::unauthorized; // AWS answers 400 for refused signatures and tokens
  }
  std::string message = operation + ": ";
  message += words.empty() ? "HTTP " + std::to_string(response.status) : words;
  return make_error(kind, message);
}

class AwsEcrSource final : public credentials::IdentitySource {
public:
  explicit AwsEcrSource(Environment environment) : m_environment(std::move(environment)) {}

  [[nodiscard]] std::string name() const override { return "aws-ecr"; }

  [[nodiscard]] bool serves(std::string_view registry) const override {
    return aws::parse_ecr_host(registry).has_value();
  }

  Result<std::optional<credentials::IdentityCredentials>>
  get(const std::string& registry) override {
    auto host = aws::parse_ecr_host(registry);
    if (!host) {
      return std::optional<credentials::IdentityCredentials>();
    }
    // Every ask fetches a new token: a command asks once, and asks again only to renew
    // credentials that end or that the registry refused (a token kept here would be handed
    // back, refused again).
    auto resolved = resolve(*host);
    if (!resolved) {
      return resolved.error();
    }
    if (!*resolved) {
      return std::optional<credentials::IdentityCredentials>();
    }
    const Resolved& identity = **resolved;
    // Keys from the environment and files go into libcurl's signing and a header: no spaces or
    // control bytes (a line break would inject a header).
    for (const auto& [value, what] :
         {std::pair{&identity.credentials.access_key_id, "access key id"},
          std::pair{&identity.credentials.secret_access_key, "secret access key"},
          std::pair{&identity.credentials.session_token, "session token"}}) {
      if (std::any_of(value->begin(), value->end(),
                      [](char c) { return c <= 0x20 || c >= 0x7f; })) {
        return make_error(ErrorKind::config, identity.description + ": the " + what +
                                                 " holds spaces or control bytes");
      }
    }
    if (identity.credentials.expiration && *identity.credentials.expiration <= now()) {
      return make_error(ErrorKind::unauthorized, identity.description +
                                                     ": the AWS credentials expired at " +
                                                     format_time(*identity.credentials.expiration));
    }
    auto token = get_authorization_token(*host, identity.credentials);
    if (!token) {
      return token.error().with_context(identity.description);
    }
    credentials::IdentityCredentials found;
    found.credentials.username = token->username;
    found.credentials.password = token->password;
    found.description = identity.description;
    found.expires_at = token->expires_at;
    return std::optional<credentials::IdentityCredentials>(std::move(found));
  }

private:
  [[nodiscard]] std::optional<std::string> variable(std::string_view name) const {
    auto value = m_environment.variable ? m_environment.variable(name) : std::nullopt;
    if (value && value->empty()) {
      return std::nullopt; // the SDKs treat an empty variable as unset
    }
    return value;
  }

  [[nodiscard]] Clock::time_point now() const {
    return m_environment.now ? m_environment.now() : Clock::now();
  }

  // AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, else `standard`; the configured ones are
  // ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true.
  [[nodiscard]] std::string endpoint(std::string_view service_variable,
                                     const std::string& standard) const {
    if (!equals_true(variable("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))) {
      for (auto name : {std::string("AWS_ENDPOINT_URL_") + std::string(service_variable),
                        std::string("AWS_ENDPOINT_URL")}) {
        if (auto configured = variable(name)) {
          return trim(*configured);
        }
      }
    }
    return standard;
  }

  static std::string with_path(std::string base, std::string_view path) {
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    return base + std::string(path);
  }

  Result<std::unique_ptr<http::HttpClient>> client() const {
    if (!m_environment.make_http_client) {
      return make_error(ErrorKind::internal, "no HTTP client for identity endpoints");
    }
    return m_environment.make_http_client();
  }

  // ---- the credential chain ----

  Result<std::optional<Resolved>> resolve(const EcrHost& host) {
    if (auto id = variable("AWS_ACCESS_KEY_ID"), secret = variable("AWS_SECRET_ACCESS_KEY");
        id && secret) {
      Resolved resolved;
      resolved.credentials.access_key_id = *id;
      resolved.credentials.secret_access_key = *secret;
      resolved.credentials.session_token = variable("AWS_SESSION_TOKEN").value_or("");
      resolved.description = "AWS environment keys " + mask_key_id(*id);
      return std::optional<Resolved>(std::move(resolved));
    }
    if (auto token_file = variable("AWS_WEB_IDENTITY_TOKEN_FILE"),
        role_arn = variable("AWS_ROLE_ARN");
        token_file && role_arn) {
      return web_identity(*token_file, *role_arn, variable("AWS_ROLE_SESSION_NAME").value_or(""),
                          "", host, "AWS web identity, role " + role_name(*role_arn));
    }
    auto profile = from_profile(host);
    if (!profile || *profile) {
      return profile;
    }
    auto container = from_container();
    if (!container || *container) {
      return container;
    }
    return from_instance_metadata();
  }

  Result<std::optional<Resolved>> web_identity(const std::string& token_file,
                                               const std::string& role_arn,
                                               std::string session_name,
                                               const std::string& profile_region,
                                               const EcrHost& host, const std::string& described) {
    auto token = read_named_file(token_file, "the web identity token");
    if (!token) {
      return token.error().with_context(described);
    }
    std::string jwt = trim(*token);
    if (jwt.empty()) {
      return make_error(ErrorKind::unauthorized,
                        described + ": the web identity token file " + token_file + " is empty");
    }
    if (session_name.empty()) {
      session_name = "regauth-" + std::to_string(Clock::to_time_t(now()));
    }
    std::string region =
        variable("AWS_REGION")
            .value_or(variable("AWS_DEFAULT_REGION")
                          .value_or(profile_region.empty() ? host.region : profile_region));
    http::Request request;
    request.method = "POST";
    request.url = with_path(endpoint("STS", "https://sts." + region + "." + host.api_domain), "/");
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
    request.body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" +
                   http::url_encode(role_arn) +
                   "&RoleSessionName=" + http::url_encode(session_name) +
                   "&WebIdentityToken=" + http::url_encode(jwt);
    request.follow_redirects = false;
    request.max_response_body = k_max_answer;
    auto http = client();
    if (!http) {
      return http.error();
    }
    auto response = (*http)->send(request);
    if (!response) {
      return response.error().with_context(described + ": AssumeRoleWithWebIdentity");
    }
    if (response->status != 200) {
      return aws_error("AssumeRoleWithWebIdentity", *response, true).with_context(described);
    }
    auto credentials = aws::parse_sts_credentials(response->body);
    if (!credentials) {
      return credentials.error().with_context(described);
    }
    Resolved resolved{std::move(*credentials), described, region};
    return std::optional<Resolved>(std::move(resolved));
  }

  Result<std::optional<aws::IniSections>> load_ini(const std::string& override_variable,
                                                   const char* default_name,
                                                   const std::string& what) {
    std::filesystem::path path;
    if (auto named = variable(override_variable)) {
      path = *named;
      if (!path.empty() && path.native().rfind("~/", 0) == 0) {
        path = m_environment.home / path.native().substr(2);
      }
    } else if (!m_environment.home.empty()) {
      path = m_environment.home / ".aws" / default_name;
    } else {
      return std::optional<aws::IniSections>();
    }
    if (!file_exists(path)) {
      return std::optional<aws::IniSections>();
    }
    auto text = read_named_file(path, what);
    if (!text) {
      return text.error();
    }
    auto sections = aws::parse_ini(*text);
    if (!sections) {
      return sections.error().with_context("reading " + what + " " + path.string());
    }
    return std::optional<aws::IniSections>(std::move(*sections));
  }

  Result<std::optional<Resolved>> from_profile(const EcrHost& host) {
    auto named = variable("AWS_PROFILE");
    std::string profile = named.value_or("default");
    auto credentials_file =
        load_ini("AWS_SHARED_CREDENTIALS_FILE", "credentials", "the AWS credentials file");
    if (!credentials_file) {
      return credentials_file.error();
    }
    auto config_file = load_ini("AWS_CONFIG_FILE", "config", "the AWS config file");
    if (!config_file) {
      return config_file.error();
    }
    std::map<std::string, std::string> settings;
    bool found = false;
    if (*config_file) {
      // `[profile NAME]`; the default profile is `[default]` (or `[profile default]`).
      auto it = (*config_file)->find("profile " + profile);
      if (it == (*config_file)->end() && profile == "default") {
        it = (*config_file)->find("default");
      }
      if (it != (*config_file)->end()) {
        settings = it->second;
        found = true;
      }
    }
    if (*credentials_file) {
      if (auto it = (*credentials_file)->find(profile); it != (*credentials_file)->end()) {
        for (const auto& [key, value] : it->second) {
          settings[key] = value; // the credentials file wins, as in the SDKs
        }
        found = true;
      }
    }
    if (!found) {
      if (named) {
        return make_error(ErrorKind::config, "AWS_PROFILE names the profile '" +
                                                 escape_for_terminal(profile, 64) +
                                                 "', which neither AWS file defines");
      }
      return std::optional<Resolved>();
    }
    auto setting = [&](const char* key) -> std::string {
      auto it = settings.find(key);
      return it == settings.end() ? std::string() : it->second;
    };
    std::string described = "AWS profile " + escape_for_terminal(profile, 64);
    if (!setting("role_arn").empty() && !setting("web_identity_token_file").empty()) {
      return web_identity(setting("web_identity_token_file"), setting("role_arn"),
                          setting("role_session_name"), setting("region"), host,
                          described + ", web identity role " + role_name(setting("role_arn")));
    }
    if (!setting("aws_access_key_id").empty() && !setting("aws_secret_access_key").empty()) {
      Resolved resolved;
      resolved.credentials.access_key_id = setting("aws_access_key_id");
      resolved.credentials.secret_access_key = setting("aws_secret_access_key");
      resolved.credentials.session_token = setting("aws_session_token");
      resolved.description = described;
      resolved.region = setting("region");
      return std::optional<Resolved>(std::move(resolved));
    }
    if (!setting("credential_process").empty()) {
      return credential_process(setting("credential_process"), described + " (credential_process)");
    }
    if (!setting("role_arn").empty()) {
      return make_error(ErrorKind::config,
                        described + ": role_arn with source_profile or credential_source is not "
                                    "supported; use web_identity_token_file or credential_process");
    }
    if (named) {
      return make_error(ErrorKind::config, described + " holds no credentials");
    }
    return std::optional<Resolved>();
  }

  Result<std::optional<Resolved>> credential_process(const std::string& command,
                                                     const std::string& described) {
    if (!m_environment.process_runner) {
      return make_error(ErrorKind::internal, described + ": no process runner");
    }
    // As the Go SDK does on Unix: the command line is the user's own, run by the shell.
    credentials::ProcessRequest request;
    request.program = "/bin/sh";
    request.args = {"-c", command};
    request.timeout = k_process_timeout;
    request.max_output = 64 * 1024;
    auto outcome = m_environment.process_runner->run(request);
    if (!outcome) {
      return outcome.error().with_context(described);
    }
    if (outcome->timed_out) {
      return make_error(ErrorKind::helper, described + ": timed out after " +
                                               std::to_string(k_process_timeout.count() / 1000) +
                                               " s");
    }
    if (outcome->output_truncated) {
      return make_error(ErrorKind::helper, described + ": output larger than 64 KiB");
    }
    if (outcome->signaled) {
      return make_error(ErrorKind::helper,
                        described + ": killed by signal " + std::to_string(outcome->signal));
    }
    if (outcome->exit_status != 0) {
      return make_error(ErrorKind::helper,
                        described + ": exited with status " + std::to_string(outcome->exit_status));
    }
    auto credentials = aws::parse_credential_process_output(outcome->output);
    if (!credentials) {
      return credentials.error().with_context(described);
    }
    Resolved resolved{std::move(*credentials), described, ""};
    return std::optional<Resolved>(std::move(resolved));
  }

  // The hosts the SDKs send container credentials requests to over plain HTTP: loopback, the
  // ECS agent (169.254.170.2) and EKS Pod Identity (169.254.170.23, fd00:ec2::23).
  static bool allowed_container_host(const http::Url& url) {
    if (url.scheme == "https") {
      return true;
    }
    return http::is_loopback_host(url.host) || url.host == "169.254.170.2" ||
           url.host == "169.254.170.23" || url.host == "fd00:ec2::23";
  }

  Result<std::optional<Resolved>> from_container() {
    const std::string described = "AWS container credentials";
    std::string url;
    if (auto relative = variable("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
      url = "http://169.254.170.2" + *relative;
    } else if (auto full = variable("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
      url = *full;
    } else {
      return std::optional<Resolved>();
    }
    auto parsed = http::parse_url(url);
    if (!parsed) {
      return parsed.error().with_context(described);
    }
    if (!allowed_container_host(*parsed)) {
      return make_error(ErrorKind::config,
                        described + ": AWS_CONTAINER_CREDENTIALS_FULL_URI names " +
                            parsed->host_port() +
                            "; over http only loopback, 169.254.170.2, 169.254.170.23 and "
                            "fd00:ec2::23 may serve credentials");
    }
    http::Request request;
    request.url = url;
    request.follow_redirects = false;
    request.max_response_body = k_max_answer;
    request.timeout = k_metadata_timeout;
    std::optional<std::string> authorization;
    if (auto token_file = variable("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
      auto text = read_named_file(*token_file, "the container authorization token");
      if (!text) {
        return text.error().with_context(described);
      }
      authorization = trim(*text);
    } else if (auto token = variable("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
      authorization = *token;
    }
    if (authorization) {
      if (authorization->find_first_of("\r\n") != std::string::npos) {
        return make_error(ErrorKind::config,
                          described + ": the authorization token holds a line break");
      }
      request.headers.push_back({"Authorization", *authorization});
    }
    auto http = client();
    if (!http) {
      return http.error();
    }
    auto response = (*http)->send(request);
    if (!response) {
      return response.error().with_context(described);
    }
    if (response->status != 200) {
      return aws_error("GET " + parsed->origin() + parsed->path, *response, true)
          .with_context(described);
    }
    auto credentials = aws::parse_metadata_credentials(response->body);
    if (!credentials) {
      return credentials.error().with_context(described);
    }
    Resolved resolved{std::move(*credentials), described, ""};
    return std::optional<Resolved>(std::move(resolved));
  }

  // True when the machine's DMI says it is an EC2 instance: the vendor "Amazon EC2" (Nitro),
  // a BIOS version naming Amazon (Xen instances), or an instance id as the asset tag.
  [[nodiscard]] bool is_ec2_instance() const {
    auto read = [&](const char* name) -> std::string {
      auto text = read_named_file(m_environment.dmi_dir / name, "DMI");
      return text ? trim(*text) : std::string();
    };
    if (read("sys_vendor") == "Amazon EC2" || read("board_vendor") == "Amazon EC2") {
      return true;
    }
    std::string bios = to_lower(read("bios_version"));
    if (bios.find("amazon") != std::string::npos) {
      return true;
    }
    return read("board_asset_tag").rfind("i-", 0) == 0;
  }

  Result<std::optional<Resolved>> from_instance_metadata() {
    if (equals_true(variable("AWS_EC2_METADATA_DISABLED"))) {
      return std::optional<Resolved>();
    }
    std::string base;
    if (auto configured = variable("AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
      base = trim(*configured);
    } else if (is_ec2_instance()) {
      auto mode = variable("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
      base = mode && http::equals_ignore_case(*mode, "IPv6") ? "http://[fd00:ec2::254]"
                                                             : "http://169.254.169.254";
    } else {
      return std::optional<Resolved>();
    }
    std::string described = "AWS EC2 instance role";
    auto http = client();
    if (!http) {
      return http.error();
    }
    auto send = [&](http::Request request) {
      request.follow_redirects = false;
      request.max_response_body = k_max_answer;
      request.timeout = k_metadata_timeout;
      return (*http)->send(request);
    };
    // 1. a session token (IMDSv2); an IMDS that knows none (404, 405) takes plain GETs (v1)
    http::Request put;
    put.method = "PUT";
    put.url = with_path(base, "/latest/api/token");
    put.headers.push_back({"X-aws-ec2-metadata-token-ttl-seconds", "21600"});
    auto token = send(put);
    if (!token) {
      return token.error().with_context(described + ": PUT /latest/api/token");
    }
    std::vector<http::Header> headers;
    if (token->status == 200) {
      std::string value = trim(token->body);
      if (value.empty() || value.find_first_of("\r\n") != std::string::npos) {
        return make_error(ErrorKind::protocol,
                          described + ": PUT /latest/api/token: a malformed token");
      }
      headers.push_back({"X-aws-ec2-metadata-token", value});
    } else if (token->status != 404 && token->status != 405) {
      return aws_error("PUT /latest/api/token", *token, false).with_context(described);
    }
    // 2. the role of the instance profile
    const std::string path = "/latest/meta-data/iam/security-credentials/";
    http::Request list;
    list.url = with_path(base, path);
    list.headers = headers;
    auto roles = send(list);
    if (!roles) {
      return roles.error().with_context(described + ": GET " + path);
    }
    // An instance without an IAM instance profile answers 404 or names no role: no credentials
    // from this source, and the chain goes on (botocore's InstanceMetadataFetcher returns none).
    if (roles->status == 404) {
      return std::optional<Resolved>();
    }
    if (roles->status != 200) {
      return aws_error("GET " + path, *roles, false).with_context(described);
    }
    std::string role = trim(roles->body.substr(0, roles->body.find('\n')));
    if (role.empty()) {
      return std::optional<Resolved>();
    }
    if (role.find_first_of("/?#% \t\r") != std::string::npos || role.size() > 128) {
      return make_error(ErrorKind::protocol, described + ": GET " + path + ": no role name");
    }
    described += " " + escape_for_terminal(role, 64);
    // 3. the role's credentials
    http::Request get;
    get.url = with_path(base, path + role);
    get.headers = headers;
    auto answer = send(get);
    if (!answer) {
      return answer.error().with_context(described);
    }
    if (answer->status != 200) {
      return aws_error("GET " + path + role, *answer, false).with_context(described);
    }
    auto credentials = aws::parse_metadata_credentials(answer->body);
    if (!credentials) {
      return credentials.error().with_context(described);
    }
    Resolved resolved{std::move(*credentials), described, ""};
    return std::optional<Resolved>(std::move(resolved));
  }

  // ---- ECR ----

  Result<aws::EcrAuthorization> get_authorization_token(const EcrHost& host,
                                                        const AwsCredentials& credentials) {
    std::string service = host.is_public ? "ecr-public" : "ecr";
    http::Request request;
    request.method = "POST";
    request.url = with_path(
        endpoint(host.is_public ? "ECR_PUBLIC" : "ECR", aws::ecr_api_endpoint(host)), "/");
    request.headers.push_back({"Content-Type", "application/x-amz-json-1.1"});
    request.headers.push_back(
        {"X-Amz-Target", host.is_public
                             ? "SpencerFrontendService.GetAuthorizationToken"
                             : "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"});
    if (!credentials.session_token.empty()) {
      request.headers.push_back({"X-Amz-Security-Token", credentials.session_token});
    }
    request.body = "{}";
    request.follow_redirects = false;
    request.max_response_body = k_max_answer;
    request.aws_signing =
        http::AwsSigning{"aws:amz:" + host.region + ":" + service, credentials.access_key_id,
                         credentials.secret_access_key};
    auto http = client();
    if (!http) {
      return http.error();
    }
    auto response = (*http)->send(request);
    if (!response) {
      return response.error().with_context("GetAuthorizationToken");
    }
    if (response->status != 200) {
      return aws_error("GetAuthorizationToken", *response, true);
    }
    auto authorization = aws::parse_ecr_authorization(response->body);
    if (!authorization) {
      return authorization.error();
    }
    if (authorization->expires_at && *authorization->expires_at <= now()) {
      return make_error(ErrorKind::unauthorized, "GetAuthorizationToken: the token expired at " +
                                                     format_time(*authorization->expires_at));
    }
    return authorization;
  }

  Environment m_environment;
};

} // namespace

std::unique_ptr<credentials::IdentitySource> make_aws_ecr_source(const Environment& environment) {
  return std::make_unique<AwsEcrSource>(environment);
}

} // namespace regauth::identity
