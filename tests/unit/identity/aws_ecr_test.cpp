#include "regauth/identity/sources.hpp"
#include "regauth/util/base64.hpp"

#include "support/fake_environment.hpp"
#include "support/fake_http_client.hpp"
#include "support/fake_process_runner.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <utility>

using regauth::identity::Environment;
using regauth::identity::make_aws_ecr_source;
using regauth::testing::FakeHttpClient;
using regauth::testing::FakeProcessRunner;
using regauth::testing::header_value;
using regauth::testing::make_response;
using regauth::testing::TempDir;

namespace {

constexpr const char* k_registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
constexpr const char* k_ecr = "https://api.ecr.eu-west-1.amazonaws.com/";

// Hands the source a client that forwards to one shared fake.
class ForwardingClient final : public regauth::http::HttpClient {
public:
  explicit ForwardingClient(std::shared_ptr<FakeHttpClient> fake) : m_fake(std::move(fake)) {}
  regauth::Result<regauth::http::Response> send(const regauth::http::Request& request) override {
    return m_fake->send(request);
  }

private:
  std::shared_ptr<FakeHttpClient> m_fake;
};

struct World {
  std::map<std::string, std::string> variables;
  std::shared_ptr<FakeHttpClient> http = std::make_shared<FakeHttpClient>();
  FakeProcessRunner runner;
  TempDir dir;

  World() { std::filesystem::create_directories(dir / "dmi"); }

  Environment environment() {
    Environment environment;
    environment.variable = regauth::testing::variables_in(variables);
    environment.home = dir / "home";
    environment.make_http_client = [fake = http] {
      return std::make_unique<ForwardingClient>(fake);
    };
    environment.process_runner = &runner;
    environment.dmi_dir = dir / "dmi";
    return environment;
  }

  void write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories((dir / name).parent_path());
    std::ofstream(dir / name) << text;
  }
};

std::string ecr_answer(const std::string& password = "ecr-password") {
  return R"({"authorizationData": [{"authorizationToken": ")" +
         regauth::base64_encode("AWS:" + password) +
         R"(", "expiresAt": 4102444800, "proxyEndpoint": "https://x"}]})";
}

} // namespace

TEST_CASE("aws ecr: environment keys buy a password from GetAuthorizationToken",
          "[identity][aws]") {
  World world;
  world.variables = {{"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                     {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"},
                     {"AWS_SESSION_TOKEN", "session-token"}};
  world.http->on(
      "POST", k_ecr,
      {make_response(200, ecr_answer()), make_response(200, ecr_answer("renewed-password"))});
  auto source = make_aws_ecr_source(world.environment());
  CHECK(source->name() == "aws-ecr");
  REQUIRE(source->serves(k_registry));
  auto found = source->get(k_registry);
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->credentials.username == "AWS");
  CHECK((*found)->credentials.password == "ecr-password");
  CHECK((*found)->description == "AWS environment keys AKIA…MPLE");
  REQUIRE((*found)->expires_at);
  CHECK(std::chrono::system_clock::to_time_t(*(*found)->expires_at) == 4102444800);

  auto requests = world.http->requests();
  REQUIRE(requests.size() == 1);
  const auto& request = requests[0];
  CHECK(request.method == "POST");
  CHECK(request.body == "{}");
  CHECK(header_value(request, "X-Amz-Target") ==
        "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
  CHECK(header_value(request, "Content-Type") == "application/x-amz-json-1.1");
  CHECK(header_value(request, "X-Amz-Security-Token") == "session-token");
  CHECK(header_value(request, "Authorization").empty()); // libcurl signs
  REQUIRE(request.aws_signing);
  CHECK(request.aws_signing->provider == "aws:amz:eu-west-1:ecr");
  CHECK(request.aws_signing->access_key_id == "AKIAIOSFODNN7EXAMPLE");
  CHECK(request.aws_signing->secret_access_key == "wJalrXUtnFEMI");

  // A second ask in the same process is a renewal (the token ends, or the registry refused it):
  // it gets a new token, never the one it had.
  auto again = source->get(k_registry);
  REQUIRE(again);
  REQUIRE(*again);
  CHECK((*again)->credentials.password == "renewed-password");
  CHECK(world.http->requests().size() == 2);
}

TEST_CASE("aws ecr: ECR Public and the endpoint variables", "[identity][aws]") {
  World world;
  world.variables = {{"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                     {"AWS_SECRET_ACCESS_KEY", "secret"},
                     {"AWS_ENDPOINT_URL", "http://127.0.0.1:1/"},
                     {"AWS_ENDPOINT_URL_ECR_PUBLIC", "http://127.0.0.1:2"}};
  world.http->on("POST", "http://127.0.0.1:", make_response(200, ecr_answer()));
  auto source = make_aws_ecr_source(world.environment());
  REQUIRE(source->get("public.ecr.aws"));
  REQUIRE(source->get(k_registry));
  auto requests = world.http->requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].url == "http://127.0.0.1:2/");
  CHECK(header_value(requests[0], "X-Amz-Target") ==
        "SpencerFrontendService.GetAuthorizationToken");
  CHECK(requests[0].aws_signing->provider == "aws:amz:us-east-1:ecr-public");
  CHECK(requests[1].url == "http://127.0.0.1:1/");
  CHECK(header_value(requests[1], "X-Amz-Security-Token").empty());

  world.variables["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  world.http->on("POST", k_ecr, make_response(200, ecr_answer()));
  REQUIRE(make_aws_ecr_source(world.environment())->get(k_registry));
  CHECK(world.http->requests().back().url == k_ecr);
}

TEST_CASE("aws ecr: refusals name the source and AWS's words", "[identity][aws]") {
  World world;
  world.variables = {{"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                     {"AWS_SECRET_ACCESS_KEY", "secret"}};
  world.http->on("POST", k_ecr, make_response(400, R"({"__type": "InvalidSignatureException",
                                        "message": "The request signature we calculated does not match"})"));
  auto found = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE_FALSE(found);
  CHECK(found.error().kind == regauth::ErrorKind::unauthorized);
  CHECK(found.error().message ==
        "AWS environment keys AKIA…MPLE: GetAuthorizationToken: InvalidSignatureException: The "
        "request signature we calculated does not match");
}

TEST_CASE("aws ecr: an expired token is refused, not handed to the registry", "[identity][aws]") {
  World world;
  world.variables = {{"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                     {"AWS_SECRET_ACCESS_KEY", "secret"}};
  world.http->on("POST", k_ecr,
                 make_response(200, R"({"authorizationData": [{"authorizationToken": ")" +
                                        regauth::base64_encode("AWS:old") +
                                        R"(", "expiresAt": 1000}]})"));
  auto found = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE_FALSE(found);
  CHECK(found.error().message == "AWS environment keys AKIA…MPLE: GetAuthorizationToken: the "
                                 "token expired at 1970-01-01T00:16:40Z");
}

TEST_CASE("aws ecr: no identity on the machine means no answer and no request", "[identity][aws]") {
  World world;
  world.write("dmi/sys_vendor", "QEMU\n");
  auto found = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE(found);
  CHECK_FALSE(*found);
  CHECK(world.http->requests().empty());
  CHECK_FALSE(make_aws_ecr_source(world.environment())->serves("docker.io"));
}

TEST_CASE("aws ecr: web identity goes to STS unsigned, then to ECR signed", "[identity][aws]") {
  World world;
  world.write("token", "header.payload.signature\n");
  world.variables = {{"AWS_WEB_IDENTITY_TOKEN_FILE", (world.dir / "token").string()},
                     {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci/pusher"},
                     {"AWS_ROLE_SESSION_NAME", "run 42"},
                     {"AWS_REGION", "eu-central-1"}};
  world.http->on("POST", "https://sts.eu-central-1.amazonaws.com/",
                 make_response(200, "<AssumeRoleWithWebIdentityResponse><Credentials>"
                                    "<AccessKeyId>ASIASTS</AccessKeyId>"
                                    "<SecretAccessKey>stssecret</SecretAccessKey>"
                                    "<SessionToken>ststoken</SessionToken>"
                                    "<Expiration>2100-01-01T00:00:00Z</Expiration>"
                                    "</Credentials></AssumeRoleWithWebIdentityResponse>"));
  world.http->on("POST", k_ecr, make_response(200, ecr_answer()));
  auto found = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->description == "AWS web identity, role pusher");
  auto requests = world.http->requests();
  REQUIRE(requests.size() == 2);
  CHECK_FALSE(requests[0].aws_signing);
  CHECK(requests[0].body ==
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%"
        "3A123456789012%3Arole%2Fci%2Fpusher&RoleSessionName=run%2042&WebIdentityToken=header."
        "payload.signature");
  CHECK(requests[1].aws_signing->access_key_id == "ASIASTS");
  CHECK(header_value(requests[1], "X-Amz-Security-Token") == "ststoken");
}

TEST_CASE("aws ecr: STS refusals name the role", "[identity][aws]") {
  World world;
  world.write("token", "jwt");
  world.variables = {{"AWS_WEB_IDENTITY_TOKEN_FILE", (world.dir / "token").string()},
                     {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pusher"}};
  world.http->on("POST", "https://sts.eu-west-1.amazonaws.com/",
                 make_response(403, "<ErrorResponse><Error><Code>AccessDenied</Code>"
                                    "<Message>Not authorized</Message></Error></ErrorResponse>"));
  auto found = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE_FALSE(found);
  CHECK(found.error().kind == regauth::ErrorKind::unauthorized);
  CHECK(found.error().message ==
        "AWS web identity, role pusher: AssumeRoleWithWebIdentity: AccessDenied: Not authorized");
}

TEST_CASE("aws ecr: a token file that is a FIFO or missing is refused before STS is asked",
          "[identity][aws]") {
  World world;
  REQUIRE(::mkfifo((world.dir / "fifo").c_str(), 0600) == 0);
  for (const auto& [name, words] :
       {std::pair{"fifo", "a FIFO, not a regular file"}, std::pair{"missing", "opening "}}) {
    CAPTURE(name);
    world.variables = {{"AWS_WEB_IDENTITY_TOKEN_FILE", (world.dir / name).string()},
                       {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pusher"}};
    auto found = make_aws_ecr_source(world.environment())->get(k_registry);
    REQUIRE_FALSE(found);
    CHECK(found.error().kind == regauth::ErrorKind::io);
    CHECK_THAT(found.error().message,
               Catch::StartsWith("AWS web identity, role pusher: reading the web identity "
                                 "token: opening " +
                                 (world.dir / name).string()));
    CHECK_THAT(found.error().message, Catch::Contains(words));
  }
  CHECK(world.http->requests().empty());
}

TEST_CASE("aws ecr: profiles from the shared files", "[identity][aws]") {
  World world;
  world.write("home/.aws/credentials", "[default]\naws_access_key_id = AKIADEFAULTDEFAULT\n"
                                       "aws_secret_access_key = d\n"
                                       "[ci]\naws_access_key_id = AKIACICICICICICI\n"
                                       "aws_secret_access_key = c\n");
  world.write("home/.aws/config", "[profile proc]\ncredential_process = get-creds --json\n");
  world.http->on("POST", k_ecr, make_response(200, ecr_answer()));

  auto by_default = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE(by_default);
  REQUIRE(*by_default);
  CHECK((*by_default)->description == "AWS profile default");
  CHECK(world.http->requests().back().aws_signing->access_key_id == "AKIADEFAULTDEFAULT");

  world.variables["AWS_PROFILE"] = "ci";
  REQUIRE(make_aws_ecr_source(world.environment())->get(k_registry));
  CHECK(world.http->requests().back().aws_signing->access_key_id == "AKIACICICICICICI");

  world.variables["AWS_PROFILE"] = "proc";
  world.runner.script_exit(
      0,
      R"({"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "p", "SessionToken": "t"})");
  auto process = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE(process);
  CHECK((*process)->description == "AWS profile proc (credential_process)");
  REQUIRE(world.runner.requests().size() == 1);
  CHECK(world.runner.requests()[0].program == "/bin/sh");
  CHECK(world.runner.requests()[0].args == std::vector<std::string>{"-c", "get-creds --json"});
  CHECK(world.http->requests().back().aws_signing->access_key_id == "ASIAPROC");

  world.runner.script_exit(3, "");
  auto failed = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message == "AWS profile proc (credential_process): exited with status 3");

  world.variables["AWS_PROFILE"] = "missing";
  auto missing = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message ==
        "AWS_PROFILE names the profile 'missing', which neither AWS file defines");
}

TEST_CASE("aws ecr: container credentials go only to the hosts the SDKs allow", "[identity][aws]") {
  World world;
  world.variables = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://198.51.100.7/creds"},
                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"}};
  auto refused = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("198.51.100.7") != std::string::npos);
  CHECK(world.http->requests().empty());

  world.variables = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"}};
  world.http->on("GET", "http://169.254.170.2/v2/credentials/abc",
                 make_response(200, R"({"AccessKeyId": "ASIACONT", "SecretAccessKey": "s",
                                        "Token": "t", "Expiration": "2100-01-01T00:00:00Z"})"));
  world.http->on("POST", k_ecr, make_response(200, ecr_answer()));
  auto found = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->description == "AWS container credentials");
  CHECK(header_value(world.http->requests()[0], "Authorization") == "container-token");
}

TEST_CASE("aws ecr: IMDS only where DMI says EC2, and never when disabled", "[identity][aws]") {
  World world;
  world.write("dmi/sys_vendor", "Amazon EC2\n");
  world.http->on("PUT", "http://169.254.169.254/latest/api/token", make_response(200, "imds-tok"));
  world.http->on("GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                 make_response(200, "instance-role\n"));
  world.http->on("GET",
                 "http://169.254.169.254/latest/meta-data/iam/security-credentials/instance-role",
                 make_response(200, R"({"Code": "Success", "AccessKeyId": "ASIAIMDS",
                                        "SecretAccessKey": "s", "Token": "t",
                                        "Expiration": "2100-01-01T00:00:00Z"})"));
  world.http->on("POST", k_ecr, make_response(200, ecr_answer()));
  auto found = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE(found);
  REQUIRE(*found);
  CHECK((*found)->description == "AWS EC2 instance role instance-role");
  auto requests = world.http->requests();
  REQUIRE(requests.size() == 4);
  CHECK(header_value(requests[0], "X-aws-ec2-metadata-token-ttl-seconds") == "21600");
  CHECK(header_value(requests[1], "X-aws-ec2-metadata-token") == "imds-tok");
  CHECK(header_value(requests[2], "X-aws-ec2-metadata-token") == "imds-tok");

  world.variables["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  auto disabled = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE(disabled);
  CHECK_FALSE(*disabled);
  CHECK(world.http->requests().size() == 4);

  World laptop;
  laptop.write("dmi/sys_vendor", "LENOVO\n");
  laptop.write("dmi/board_asset_tag", "No Asset Tag\n");
  auto none = make_aws_ecr_source(laptop.environment())->get(k_registry);
  REQUIRE(none);
  CHECK_FALSE(*none);
  CHECK(laptop.http->requests().empty());

  World xen;
  xen.write("dmi/bios_version", "4.11.amazon\n");
  xen.variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9/";
  xen.http->on("PUT", "http://127.0.0.1:9/latest/api/token", make_response(405));
  xen.http->on("GET", "http://127.0.0.1:9/latest/meta-data/iam/security-credentials/",
               make_response(404));
  auto no_profile = make_aws_ecr_source(xen.environment())->get(k_registry);
  REQUIRE(no_profile);
  CHECK_FALSE(*no_profile);
  CHECK(header_value(xen.http->requests()[1], "X-aws-ec2-metadata-token").empty());
}

TEST_CASE("aws ecr: an instance without an IAM role gives no credentials, as the SDKs do",
          "[identity][aws]") {
  // botocore's InstanceMetadataFetcher: a role list that answers 404 or names no role means
  // no credentials from IMDS, not an error; the chain goes on.
  for (const auto& answer : {make_response(404), make_response(200, ""), make_response(200, "\n"),
                             make_response(200, "  \r\n")}) {
    World world;
    world.write("dmi/sys_vendor", "Amazon EC2\n");
    world.http->on("PUT", "http://169.254.169.254/latest/api/token",
                   make_response(200, "imds-tok"));
    world.http->on("GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                   answer);
    auto found = make_aws_ecr_source(world.environment())->get(k_registry);
    INFO("status " << answer.status << ", body \"" << answer.body << "\"");
    REQUIRE(found);
    CHECK_FALSE(*found);
    CHECK(world.http->requests().size() == 2); // no role's credentials asked for, no ECR call
  }
  // A role list that answers something else is still an error.
  World broken;
  broken.write("dmi/sys_vendor", "Amazon EC2\n");
  broken.http->on("PUT", "http://169.254.169.254/latest/api/token", make_response(200, "tok"));
  broken.http->on("GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                  make_response(200, "bad/role"));
  auto refused = make_aws_ecr_source(broken.environment())->get(k_registry);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == regauth::ErrorKind::protocol);
  CHECK(refused.error().message.find("no role name") != std::string::npos);
}

TEST_CASE("aws ecr: expired credentials are refused before ECR is asked", "[identity][aws]") {
  World world;
  world.variables = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:7/creds"}};
  world.http->on("GET", "http://127.0.0.1:7/creds",
                 make_response(200, R"({"AccessKeyId": "ASIACONT", "SecretAccessKey": "s",
                                        "Token": "t", "Expiration": "2001-01-01T00:00:00Z"})"));
  auto found = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE_FALSE(found);
  CHECK(found.error().message ==
        "AWS container credentials: the AWS credentials expired at 2001-01-01T00:00:00Z");
  CHECK(world.http->requests().size() == 1);
}

TEST_CASE("aws ecr: a session token with a line break never reaches a header", "[identity][aws]") {
  World world;
  world.variables = {{"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                     {"AWS_SECRET_ACCESS_KEY", "secret"},
                     {"AWS_SESSION_TOKEN", "token\r\nX-Injected: 1"}};
  auto found = make_aws_ecr_source(world.environment())->get(k_registry);
  REQUIRE_FALSE(found);
  CHECK(found.error().kind == regauth::ErrorKind::config);
  CHECK(found.error().message ==
        "AWS environment keys AKIA…MPLE: the session token holds spaces or control bytes");
  CHECK(world.http->requests().empty());
}
