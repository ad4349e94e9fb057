#include "regauth/identity/google.hpp"
#include "regauth/identity/sources.hpp"
#include "regauth/util/base64.hpp"

#include "support/fake_environment.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <string>
#include <sys/stat.h>
#include <utility>

namespace google = regauth::identity::google;
using regauth::ErrorKind;

namespace {

const char* k_service_account = R"({
  "type": "service_account", "project_id": "demo", "private_key_id": "k-1",
  "private_key": "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n",
  "client_email": "pusher@demo.iam.gserviceaccount.com",
  "token_uri": "https://oauth2.example/token"})";

std::string from_base64url(std::string text) {
  for (char& c : text) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (text.size() % 4 != 0) {
    text += '=';
  }
  return regauth::base64_decode(text).value_or("<bad base64>");
}

} // namespace

TEST_CASE("google: a service account key file gives its email, key and token_uri", "[identity]") {
  auto file = google::parse_credentials_file(k_service_account);
  REQUIRE(file);
  CHECK(file->type == "service_account");
  CHECK(file->client_email == "pusher@demo.iam.gserviceaccount.com");
  CHECK(file->private_key_id == "k-1");
  CHECK(file->token_uri == "https://oauth2.example/token");
  CHECK(file->private_key.find("BEGIN PRIVATE KEY") != std::string::npos);
}

TEST_CASE("google: an authorized_user file without token_uri uses Google's", "[identity]") {
  auto file = google::parse_credentials_file(
      R"({"type":"authorized_user","client_id":"1.apps","client_secret":"s","refresh_token":"1//r"})");
  REQUIRE(file);
  CHECK(file->refresh_token == "1//r");
  CHECK(file->token_uri == google::k_default_token_uri);
}

TEST_CASE("google: a malformed credentials file names what is wrong", "[identity]") {
  auto fails_with = [](const char* text, const char* words) {
    CAPTURE(text);
    auto file = google::parse_credentials_file(text);
    REQUIRE_FALSE(file);
    CHECK(file.error().kind == ErrorKind::config);
    CHECK(file.error().message.find(words) != std::string::npos);
  };
  fails_with("[]", "not a JSON object");
  fails_with("{", "not a JSON object");
  fails_with(R"({"client_email":"a"})", "no \"type\" field");
  fails_with(R"({"type":"external_account"})", "\"external_account\" are not supported");
  fails_with(R"({"type":"service_account","private_key":"k"})", "no \"client_email\" field");
  fails_with(R"({"type":"service_account","client_email":"a","private_key":7})",
             "\"private_key\" is not a string");
  fails_with(R"({"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":""})",
             "\"refresh_token\" is empty");
}

TEST_CASE("google: the JWT claims name the account, the scope and the token_uri", "[identity]") {
  auto file = google::parse_credentials_file(k_service_account);
  REQUIRE(file);
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  auto claims = google::jwt_claims(*file, now);
  CHECK(claims["iss"] == "pusher@demo.iam.gserviceaccount.com");
  CHECK(claims["scope"] == "https://www.googleapis.com/auth/cloud-platform");
  CHECK(claims["aud"] == "https://oauth2.example/token");
  CHECK(claims["iat"] == 1700000000);
  CHECK(claims["exp"] == 1700003600);

  auto input = google::jwt_signing_input(*file, now);
  auto dot = input.find('.');
  REQUIRE(dot != std::string::npos);
  CHECK(input.find_first_of("+/=") == std::string::npos);
  auto header = nlohmann::json::parse(from_base64url(input.substr(0, dot)));
  CHECK(header == nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k-1"}});
  CHECK(nlohmann::json::parse(from_base64url(input.substr(dot + 1))) == claims);
}

TEST_CASE("google: base64url has no padding and the URL alphabet", "[identity]") {
  CHECK(google::base64url("\xfb\xff") == "-_8");
  CHECK(google::base64url("ab") == "YWI");
  CHECK(google::base64url("") == "");
}

TEST_CASE("google: a token answer gives the access token and its lifetime", "[identity]") {
  auto token = google::parse_token_response(
      200, R"({"access_token":"ya29.c.abc","expires_in":3599,"token_type":"Bearer"})");
  REQUIRE(token);
  CHECK(token->token == "ya29.c.abc");
  CHECK(token->expires_in == std::chrono::seconds(3599));
}

TEST_CASE("google: refused, expired and malformed token answers fail in Google's words",
          "[identity]") {
  auto fails_with = [](long status, const char* body, ErrorKind kind, const char* words) {
    CAPTURE(status, body);
    auto token = google::parse_token_response(status, body);
    REQUIRE_FALSE(token);
    CHECK(token.error().kind == kind);
    CHECK(token.error().message.find(words) != std::string::npos);
  };
  fails_with(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})",
             ErrorKind::unauthorized, "refused: invalid_grant: Invalid JWT Signature.");
  fails_with(401, R"({"error":"unauthorized_client"})", ErrorKind::unauthorized,
             "refused: unauthorized_client");
  fails_with(403, R"({"error":{"code":403,"message":"Permission denied"}})",
             ErrorKind::unauthorized, "HTTP 403: Permission denied");
  fails_with(503, "<html>", ErrorKind::network, "refused: HTTP 503");
  fails_with(200, "<html>", ErrorKind::protocol, "not a JSON object");
  fails_with(200, R"({"expires_in":3600})", ErrorKind::protocol, "no access_token");
  fails_with(200, R"({"access_token":"a b","expires_in":3600})", ErrorKind::protocol,
             "not printable");
  fails_with(200, R"({"access_token":"ya29","expires_in":"3600"})", ErrorKind::protocol,
             "no integer expires_in");
  fails_with(200, R"({"access_token":"ya29","expires_in":0})", ErrorKind::unauthorized,
             "already expired");
}

TEST_CASE("google: only Artifact Registry and GCR hosts get a Google token", "[identity]") {
  for (const char* host : {"gcr.io", "eu.gcr.io", "us.gcr.io", "europe-docker.pkg.dev",
                           "us-central1-docker.pkg.dev"}) {
    CAPTURE(host);
    CHECK(google::serves(host));
  }
  for (const char* host :
       {"gcr.io:5000", "evil.example/gcr.io", "a.b.gcr.io", "gcr.io.evil.example", "evilgcr.io",
        "docker.pkg.dev", "-docker.pkg.dev", "x.europe-docker.pkg.dev",
        "europe-docker.pkg.dev.evil.example", "ghcr.io", "pkg.dev"}) {
    CAPTURE(host);
    CHECK_FALSE(google::serves(host));
  }
}

TEST_CASE("google: DMI says Compute Engine as Google's libraries read it", "[identity]") {
  CHECK(google::dmi_says_gce("Google Compute Engine\n", "", ""));
  CHECK(google::dmi_says_gce("Google\n", "", ""));
  CHECK(google::dmi_says_gce("", "Google\n", ""));
  CHECK(google::dmi_says_gce("", "", "Google"));
  CHECK_FALSE(google::dmi_says_gce("ThinkPad X1\n", "LENOVO\n", "LENOVO\n"));
  CHECK_FALSE(google::dmi_says_gce("", "", ""));
  CHECK_FALSE(google::dmi_says_gce("Google Compute Engine Emulator", "Googler", ""));
}

TEST_CASE("google: with nothing configured the source asks nobody", "[identity]") {
  auto environment = regauth::testing::environment_of({});
  environment.home = "/nonexistent-home";
  bool asked = false;
  environment.make_http_client = [&asked]() -> std::unique_ptr<regauth::http::HttpClient> {
    asked = true;
    return nullptr;
  };
  auto source = regauth::identity::make_google_source(environment);
  CHECK(source->configured_registries().empty());
  auto found = source->get("europe-docker.pkg.dev");
  REQUIRE(found);
  CHECK_FALSE(*found);
  CHECK_FALSE(asked);
}

TEST_CASE("google: a credentials file that is a FIFO, too large or missing is refused at once",
          "[identity]") {
  regauth::testing::TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo.json").c_str(), 0600) == 0);
  std::filesystem::create_directories(dir / "folder.json");
  {
    std::ofstream large(dir / "large.json");
    large << std::string(1024 * 1024 + 1, ' ');
  }
  bool asked = false;
  for (const auto& [name, words] :
       {std::pair{"fifo.json", "a FIFO, not a regular file"},
        std::pair{"folder.json", "a directory, not a regular file"},
        std::pair{"large.json", "larger than 1 MiB"}, std::pair{"missing.json", "opening "}}) {
    CAPTURE(name);
    auto environment = regauth::testing::environment_of(
        {{"GOOGLE_APPLICATION_CREDENTIALS", (dir / name).string()}});
    environment.make_http_client = [&asked]() -> std::unique_ptr<regauth::http::HttpClient> {
      asked = true;
      return nullptr;
    };
    auto found = regauth::identity::make_google_source(environment)->get("gcr.io");
    REQUIRE_FALSE(found);
    CHECK(found.error().kind == ErrorKind::config);
    CHECK_THAT(found.error().message,
               Catch::Contains("Google credentials " + (dir / name).string() +
                               " (GOOGLE_APPLICATION_CREDENTIALS)"));
    CHECK_THAT(found.error().message, Catch::Contains(words));
  }
  CHECK_FALSE(asked);
}
