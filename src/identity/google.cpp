// Google: application default credentials for Artifact Registry (*-docker.pkg.dev) and GCR
// (gcr.io, *.gcr.io), in Google's order:
//   1. GOOGLE_APPLICATION_CREDENTIALS names a credentials file;
//   2. else gcloud's application_default_credentials.json ($CLOUDSDK_CONFIG, else
//      ~/.config/gcloud) when it exists;
//   3. else the metadata server, only where GCE_METADATA_HOST names one or the machine says it is
//      a Compute Engine instance (DMI): a laptop never waits on a link-local address.
// A service_account file signs an RS256 JWT (OpenSSL) and trades it at its token_uri
// (jwt-bearer grant); an authorized_user file trades its refresh token. The access token goes
// to the registry as oauth2accesstoken, as docker-credential-gcr does.
#include "regauth/identity/google.hpp"

#include "regauth/http/url.hpp"
#include "regauth/identity/sources.hpp"
#include "regauth/util/base64.hpp"
#include "regauth/util/libcrypto.hpp"
#include "regauth/util/safe_file.hpp"

#include <algorithm>
#include <memory>

namespace regauth::identity {
namespace google {
namespace {

Result<std::string> string_field(const nlohmann::json& json, const char* name, bool required) {
  auto it = json.find(name);
  if (it == json.end() || it->is_null()) {
    if (required) {
      return make_error(ErrorKind::config, std::string("no \"") + name + "\" field");
    }
    return std::string();
  }
  if (!it->is_string()) {
    return make_error(ErrorKind::config, std::string("\"") + name + "\" is not a string");
  }
  if (required && it->get<std::string>().empty()) {
    return make_error(ErrorKind::config, std::string("\"") + name + "\" is empty");
  }
  return it->get<std::string>();
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

} // namespace

Result<CredentialsFile> parse_credentials_file(std::string_view text) {
  auto json = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return make_error(ErrorKind::config, "not a JSON object");
  }
  CredentialsFile file;
  auto type = string_field(json, "type", true);
  if (!type) {
    return type.error();
  }
  file.type = *type;
  auto take = [&](std::string& into, const char* name, bool required) -> Result<void> {
    auto value = string_field(json, name, required);
    if (!value) {
      return value.error();
    }
    into = std::move(*value);
    return {};
  };
  Result<void> taken;
  if (file.type == "service_account") {
    for (auto [into, name, required] : {std::tuple{&file.client_email, "client_email", true},
                                        std::tuple{&file.private_key, "private_key", true},
                                        std::tuple{&file.private_key_id, "private_key_id", false},
                                        std::tuple{&file.token_uri, "token_uri", false}}) {
      if (taken = take(*into, name, required); !taken) {
        return taken.error();
      }
    }
  } else if (file.type == "authorized_user") {
    for (auto [into, name, required] : {std::tuple{&file.client_id, "client_id", true},
                                        std::tuple{&file.client_secret, "client_secret", true},
                                        std::tuple{&file.refresh_token, "refresh_token", true},
                                        std::tuple{&file.token_uri, "token_uri", false}}) {
      if (taken = take(*into, name, required); !taken) {
        return taken.error();
      }
    }
  } else {
    return make_error(ErrorKind::config, "credentials of type \"" + file.type +
                                             "\" are not supported (service_account and "
                                             "authorized_user are)");
  }
  if (file.token_uri.empty()) {
    file.token_uri = k_default_token_uri;
  }
  return file;
}

nlohmann::json jwt_claims(const CredentialsFile& file, std::chrono::system_clock::time_point now) {
  auto issued = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return {{"iss", file.client_email},
          {"scope", k_scope},
          {"aud", file.token_uri},
          {"iat", issued},
          {"exp", issued + 3600}};
}

std::string base64url(std::string_view bytes) {
  std::string text = base64_encode(bytes);
  while (!text.empty() && text.back() == '=') {
    text.pop_back();
  }
  for (char& c : text) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return text;
}

std::string jwt_signing_input(const CredentialsFile& file,
                              std::chrono::system_clock::time_point now) {
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!file.private_key_id.empty()) {
    header["kid"] = file.private_key_id;
  }
  // A key file's invalid UTF-8 becomes U+FFFD (the token endpoint then refuses it), never a throw.
  constexpr auto k_replace = nlohmann::json::error_handler_t::replace;
  return base64url(header.dump(-1, ' ', false, k_replace)) + "." +
         base64url(jwt_claims(file, now).dump(-1, ' ', false, k_replace));
}

Result<AccessToken> parse_token_response(long status, std::string_view body) {
  auto json = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  bool object = !json.is_discarded() && json.is_object();
  if (status < 200 || status > 299) {
    ErrorKind kind = status == 400 || status == 401 || status == 403 ? ErrorKind::unauthorized
                     : status >= 500                                 ? ErrorKind::network
                                                                     : ErrorKind::protocol;
    std::string words = "HTTP " + std::to_string(status);
    if (object) {
      // OAuth's {"error", "error_description"}, or Google's API shape {"error": {"message"}}.
      auto error = json.find("error");
      auto description = json.find("error_description");
      if (error != json.end() && error->is_string()) {
        words = error->get<std::string>();
        if (description != json.end() && description->is_string() &&
            !description->get<std::string>().empty()) {
          words += ": " + description->get<std::string>();
        }
      } else if (error != json.end() && error->is_object() && error->contains("message") &&
                 (*error)["message"].is_string()) {
        words += ": " + (*error)["message"].get<std::string>();
      }
    }
    return make_error(kind, "refused: " + words);
  }
  if (!object) {
    return make_error(ErrorKind::protocol, "the token answer is not a JSON object");
  }
  auto token = json.find("access_token");
  if (token == json.end() || !token->is_string() || token->get<std::string>().empty()) {
    return make_error(ErrorKind::protocol, "the token answer has no access_token");
  }
  AccessToken parsed;
  parsed.token = token->get<std::string>();
  for (char c : parsed.token) {
    if (c <= 0x20 || c >= 0x7f) {
      return make_error(ErrorKind::protocol, "the access_token holds a byte that is not printable");
    }
  }
  auto expires = json.find("expires_in");
  if (expires == json.end() || !expires->is_number_integer()) {
    return make_error(ErrorKind::protocol, "the token answer has no integer expires_in");
  }
  auto seconds = expires->get<std::int64_t>();
  if (seconds <= 0) {
    return make_error(ErrorKind::unauthorized, "the token answer is already expired (expires_in " +
                                                   std::to_string(seconds) + ")");
  }
  parsed.expires_in = std::chrono::seconds(std::min<std::int64_t>(seconds, 7 * 24 * 3600));
  return parsed;
}

bool serves(std::string_view registry) {
  if (registry.find(':') != std::string_view::npos) {
    return false; // these registries answer on 443 only
  }
  constexpr std::string_view k_gcr = ".gcr.io";
  constexpr std::string_view k_artifact = "-docker.pkg.dev";
  if (registry == "gcr.io") {
    return true;
  }
  if (ends_with(registry, k_gcr)) {
    // eu.gcr.io, us.gcr.io, asia.gcr.io: one label before gcr.io.
    auto label = registry.substr(0, registry.size() - k_gcr.size());
    return !label.empty() && label.find('.') == std::string_view::npos;
  }
  if (ends_with(registry, k_artifact)) {
    // europe-docker.pkg.dev, us-central1-docker.pkg.dev: one label, the location.
    auto location = registry.substr(0, registry.size() - k_artifact.size());
    return !location.empty() && location.find('.') == std::string_view::npos;
  }
  return false;
}

bool dmi_says_gce(std::string_view product_name, std::string_view sys_vendor,
                  std::string_view bios_vendor) {
  std::string product = trimmed(product_name);
  return product == "Google Compute Engine" || product == "Google" ||
         trimmed(sys_vendor) == "Google" || trimmed(bios_vendor) == "Google";
}

} // namespace google

namespace {

constexpr std::uint64_t k_max_file = 1024 * 1024;
constexpr std::uint64_t k_max_dmi_file = 4096;
constexpr std::string_view k_metadata_path =
    "/computeMetadata/v1/instance/service-accounts/default/token";
// Google's Go library asks this address, not metadata.google.internal: no DNS on the way.
constexpr std::string_view k_metadata_address = "169.254.169.254";

// RS256: an RSA PKCS#1 v1.5 signature over SHA-256, by OpenSSL.
Result<std::string> sign_rs256(std::string_view pem, std::string_view input) {
  const LibCrypto& crypto = libcrypto();
  crypto.clear_errors();
  std::unique_ptr<BIO, decltype(crypto.bio_free)> bio(
      crypto.bio_new_mem_buf(pem.data(), static_cast<int>(pem.size())), crypto.bio_free);
  if (!bio) {
    return make_error(ErrorKind::internal, "out of memory");
  }
  std::unique_ptr<EVP_PKEY, decltype(crypto.pkey_free)> key(
      crypto.pem_read_bio_private_key(bio.get(), nullptr, nullptr, nullptr), crypto.pkey_free);
  if (!key) {
    crypto.clear_errors();
    return make_error(ErrorKind::config, "\"private_key\" is not a PEM private key");
  }
  std::unique_ptr<EVP_MD_CTX, decltype(crypto.md_ctx_free)> context(crypto.md_ctx_new(),
                                                                    crypto.md_ctx_free);
  std::size_t size = 0;
  if (!context ||
      crypto.digest_sign_init(context.get(), nullptr, crypto.sha256(), nullptr, key.get()) != 1 ||
      crypto.digest_sign(context.get(), nullptr, &size,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    crypto.clear_errors();
    return make_error(ErrorKind::config, "\"private_key\" cannot sign RS256");
  }
  std::string signature(size, '\0');
  if (crypto.digest_sign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    crypto.clear_errors();
    return make_error(ErrorKind::config, "\"private_key\" cannot sign RS256");
  }
  signature.resize(size);
  return signature;
}

// One line of a DMI file (sysfs: regular, at most a page); empty when it cannot be read.
std::string read_dmi(const std::filesystem::path& path) {
  auto text = read_regular_file(path, ErrorKind::io, k_max_dmi_file);
  if (!text) {
    return "";
  }
  return text->substr(0, std::min<std::size_t>(text->find('\n'), 256));
}

class GoogleSource final : public credentials::IdentitySource {
public:
  explicit GoogleSource(Environment environment) : m_environment(std::move(environment)) {}

  [[nodiscard]] std::string name() const override { return "google"; }

  [[nodiscard]] bool serves(std::string_view registry) const override {
    return google::serves(registry);
  }

  [[nodiscard]] std::vector<std::string> configured_registries() const override {
    std::error_code error;
    if (variable("GOOGLE_APPLICATION_CREDENTIALS") ||
        std::filesystem::is_regular_file(gcloud_credentials(), error) || metadata_host()) {
      return {"gcr.io", "*.gcr.io", "*-docker.pkg.dev"};
    }
    return {};
  }

  Result<std::optional<credentials::IdentityCredentials>>
  get(const std::string& registry) override {
    if (!serves(registry)) {
      return std::optional<credentials::IdentityCredentials>();
    }
    if (auto path = variable("GOOGLE_APPLICATION_CREDENTIALS")) {
      return from_file(*path, "GOOGLE_APPLICATION_CREDENTIALS");
    }
    std::error_code error;
    if (auto path = gcloud_credentials(); std::filesystem::is_regular_file(path, error)) {
      return from_file(path, "gcloud application default credentials");
    }
    if (auto host = metadata_host()) {
      return from_metadata(*host);
    }
    return std::optional<credentials::IdentityCredentials>();
  }

private:
  std::optional<std::string> variable(std::string_view name) const {
    auto value = m_environment.variable(name);
    if (!value || value->empty()) {
      return std::nullopt;
    }
    return value;
  }

  std::filesystem::path gcloud_credentials() const {
    std::filesystem::path folder;
    if (auto config = variable("CLOUDSDK_CONFIG")) {
      folder = *config;
    } else if (!m_environment.home.empty()) {
      folder = m_environment.home / ".config" / "gcloud";
    } else {
      return {};
    }
    return folder / "application_default_credentials.json";
  }

  // The metadata server to ask: GCE_METADATA_HOST, else Google's address on a machine that
  // says it is Compute Engine, else none.
  std::optional<std::string> metadata_host() const {
    if (auto host = variable("GCE_METADATA_HOST")) {
      return host;
    }
    const auto& dmi = m_environment.dmi_dir;
    if (!dmi.empty() &&
        google::dmi_says_gce(read_dmi(dmi / "product_name"), read_dmi(dmi / "sys_vendor"),
                             read_dmi(dmi / "bios_vendor"))) {
      return std::string(k_metadata_address);
    }
    return std::nullopt;
  }

  Result<std::unique_ptr<http::HttpClient>> client() const {
    if (!m_environment.make_http_client) {
      return make_error(ErrorKind::internal, "google: no HTTP client");
    }
    return m_environment.make_http_client();
  }

  Result<std::optional<credentials::IdentityCredentials>> token(http::HttpClient& client,
                                                                http::Request request,
                                                                const std::string& description,
                                                                const std::string& where) {
    request.follow_redirects = false;
    request.max_response_body = 64 * 1024;
    request.headers.push_back({"Accept", "application/json"});
    auto response = client.send(request);
    if (!response) {
      return response.error().with_context(description + ": " + where);
    }
    auto parsed = google::parse_token_response(response->status, response->body);
    if (!parsed) {
      return parsed.error().with_context(description + ": " + where);
    }
    credentials::IdentityCredentials found;
    found.credentials.username = google::k_registry_username;
    found.credentials.password = std::move(parsed->token);
    found.description = description;
    found.expires_at = m_environment.now() + parsed->expires_in;
    return std::optional<credentials::IdentityCredentials>(std::move(found));
  }

  Result<std::optional<credentials::IdentityCredentials>>
  from_file(const std::filesystem::path& path, const std::string& origin) {
    auto fail = [&](const Error& error) {
      return error.with_context("Google credentials " + path.string() + " (" + origin + ")");
    };
    // Regular files only (a FIFO is refused at once, never waited on), at most 1 MiB.
    auto text = read_regular_file(path, ErrorKind::config, k_max_file);
    if (!text) {
      Error error = text.error();
      if (error.kind == ErrorKind::not_found) {
        error.kind = ErrorKind::config; // a file the environment names, not a registry's 404
      }
      return fail(error);
    }
    auto file = google::parse_credentials_file(*text);
    if (!file) {
      return fail(file.error());
    }
    auto http = client();
    if (!http) {
      return http.error();
    }
    http::Request request;
    request.method = "POST";
    request.url = file->token_uri;
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    std::string description;
    if (file->type == "service_account") {
      std::string input = google::jwt_signing_input(*file, m_environment.now());
      auto signature = sign_rs256(file->private_key, input);
      if (!signature) {
        return fail(signature.error());
      }
      request.body = "grant_type=" + http::url_encode(google::k_jwt_bearer_grant) +
                     "&assertion=" + input + "." + google::base64url(*signature);
      description = "Google service account " + file->client_email + " (" + origin + ")";
    } else {
      request.body = "grant_type=refresh_token&client_id=" + http::url_encode(file->client_id) +
                     "&client_secret=" + http::url_encode(file->client_secret) +
                     "&refresh_token=" + http::url_encode(file->refresh_token);
      description = "Google user credentials (" + origin + ")";
    }
    return token(**http, std::move(request), description, "token endpoint " + file->token_uri);
  }

  Result<std::optional<credentials::IdentityCredentials>> from_metadata(const std::string& host) {
    // Plain HTTP, as Google's libraries speak to it: a link-local, per-instance server.
    std::unique_ptr<http::HttpClient> http;
    if (m_environment.make_plain_http_client) {
      http = m_environment.make_plain_http_client(host);
    } else if (auto made = client(); made) {
      http = std::move(*made);
    } else {
      return made.error();
    }
    http::Request request;
    request.url = "http://" + host + std::string(k_metadata_path);
    request.headers.push_back({"Metadata-Flavor", "Google"});
    return token(*http, std::move(request), "Google metadata server default service account",
                 "metadata server " + host);
  }

  Environment m_environment;
};

} // namespace

std::unique_ptr<credentials::IdentitySource> make_google_source(const Environment& environment) {
  return std::make_unique<GoogleSource>(environment);
}

} // namespace regauth::identity
