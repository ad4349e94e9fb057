#include "regauth/identity/aws.hpp"
#include "regauth/util/base64.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace regauth::identity::aws;

TEST_CASE("aws: ECR registry hosts of every partition are recognised", "[identity][aws]") {
  struct Case {
    const char* host;
    const char* region;
    bool fips;
    bool dualstack;
    const char* partition;
    const char* endpoint;
  };
  for (const Case& c : {
           Case{"123456789012.dkr.ecr.us-east-1.amazonaws.com", "us-east-1", false, false, "aws",
                "https://api.ecr.us-east-1.amazonaws.com"},
           Case{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", true,
                false, "aws", "https://ecr-fips.us-gov-west-1.amazonaws.com"},
           Case{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", false, false,
                "aws-cn", "https://api.ecr.cn-north-1.amazonaws.com.cn"},
           Case{"123456789012.dkr-ecr.eu-west-1.on.aws", "eu-west-1", false, true, "aws",
                "https://api.ecr.eu-west-1.amazonaws.com"},
           Case{"123456789012.dkr-ecr-fips.us-east-2.on.aws", "us-east-2", true, true, "aws",
                "https://ecr-fips.us-east-2.amazonaws.com"},
           Case{"123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", false, false,
                "aws-iso", "https://api.ecr.us-iso-east-1.c2s.ic.gov"},
           Case{"123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", false, false,
                "aws-iso-b", "https://api.ecr.us-isob-east-1.sc2s.sgov.gov"},
           Case{"123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1", false,
                false, "aws-iso-e", "https://api.ecr.eu-isoe-west-1.cloud.adc-e.uk"},
           Case{"123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1", false,
                false, "aws-iso-f", "https://api.ecr.us-isof-south-1.csp.hci.ic.gov"},
       }) {
    CAPTURE(c.host);
    auto host = parse_ecr_host(c.host);
    REQUIRE(host);
    CHECK_FALSE(host->is_public);
    CHECK(host->account == "123456789012");
    CHECK(host->region == c.region);
    CHECK(host->fips == c.fips);
    CHECK(host->dualstack == c.dualstack);
    CHECK(host->partition == c.partition);
    CHECK(ecr_api_endpoint(*host) == c.endpoint);
  }
}

TEST_CASE("aws: ECR Public is served through us-east-1", "[identity][aws]") {
  for (const char* name : {"public.ecr.aws", "ecr-public.aws.com"}) {
    auto host = parse_ecr_host(name);
    REQUIRE(host);
    CHECK(host->is_public);
    CHECK(host->region == "us-east-1");
    CHECK(ecr_api_endpoint(*host) == "https://api.ecr-public.us-east-1.amazonaws.com");
  }
}

TEST_CASE("aws: hosts that only look like ECR are not ECR", "[identity][aws]") {
  for (const char* host : {
           "12345678901.dkr.ecr.us-east-1.amazonaws.com",      // 11 digits
           "1234567890123.dkr.ecr.us-east-1.amazonaws.com",    // 13 digits
           "12345678901a.dkr.ecr.us-east-1.amazonaws.com",     // not digits
           "123456789012.dkr.ecr.us-east-1.amazonaws.com:443", // a port
           "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
           "evil.123456789012.dkr.ecr.us-east-1.amazonaws.com",
           "123456789012.dkr.ecr.amazonaws.com",           // no region
           "123456789012.dkr.ecs.us-east-1.amazonaws.com", // not ecr
           "123456789012.dkr.ecr-fipsx.us-east-1.amazonaws.com",
           "123456789012.dkr.ecr.US-EAST-1.amazonaws.com", // registry keys are lower case
           "123456789012.dkr.ecr.-us.amazonaws.com",
           "123456789012.dkr.ecr.us_east.amazonaws.com",
           "123456789012.dkr.ecr.us-east-1.on.aws.example",
           "123456789012.dkr-ecr.us-east-1.amazonaws.com.example",
           "public.ecr.aws.evil.example",
           "ecr.aws",
           "docker.io",
           "ghcr.io",
           "",
       }) {
    CAPTURE(host);
    CHECK_FALSE(parse_ecr_host(host));
  }
}

TEST_CASE("aws: shared ini files are read as botocore reads them", "[identity][aws]") {
  auto sections = parse_ini("# comment\n"
                            "; another\n"
                            "[default]\n"
                            "aws_access_key_id = AKIDEFAULT\r\n"
                            "AWS_Secret_Access_Key=secret = with equals\n"
                            "\n"
                            "[profile ci]\n"
                            "region = eu-west-1\n"
                            "s3 =\n"
                            "  max_concurrent_requests = 2\n"
                            "  [not a section]\n"
                            "credential_process = /bin/get-creds --profile ci\n");
  REQUIRE(sections);
  CHECK(sections->at("default").at("aws_access_key_id") == "AKIDEFAULT");
  CHECK(sections->at("default").at("aws_secret_access_key") == "secret = with equals");
  CHECK(sections->at("profile ci").at("region") == "eu-west-1");
  CHECK(sections->at("profile ci").at("s3").empty());
  CHECK(sections->at("profile ci").count("max_concurrent_requests") == 0);
  CHECK(sections->at("profile ci").at("credential_process") == "/bin/get-creds --profile ci");
  CHECK(sections->count("not a section") == 0);
}

TEST_CASE("aws: a malformed ini line is an error naming the line", "[identity][aws]") {
  auto no_equals = parse_ini("[default]\naws_access_key_id AKID\n");
  REQUIRE_FALSE(no_equals);
  CHECK(no_equals.error().message == "line 2: expected 'key = value'");
  auto before_section = parse_ini("key = value\n");
  REQUIRE_FALSE(before_section);
  CHECK(before_section.error().message == "line 1: a key before any [section]");
  auto open_section = parse_ini("[default\n");
  REQUIRE_FALSE(open_section);
  CHECK(open_section.error().message == "line 1: a section header without ']'");
}

TEST_CASE("aws: ISO 8601 times with fractions and offsets", "[identity][aws]") {
  auto zulu = parse_iso8601("2026-11-29T03:00:00Z");
  REQUIRE(zulu);
  CHECK(std::chrono::system_clock::to_time_t(*zulu) == 1795921200);
  auto fraction = parse_iso8601("2026-11-29T03:00:00.123456Z");
  REQUIRE(fraction);
  CHECK(*fraction == *zulu);
  auto offset = parse_iso8601("2026-11-29T05:00:00+02:00");
  REQUIRE(offset);
  CHECK(*offset == *zulu);
  for (const char* bad : {"2026-11-29", "2026-11-29T03:00:00", "2026-13-29T03:00:00Z",
                          "2026-11-29T03:00:00+2", "yesterday", "2026-11-29T03:00:00.Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_iso8601(bad));
  }
}

TEST_CASE("aws: credential_process output is version 1 JSON", "[identity][aws]") {
  auto full = parse_credential_process_output(
      R"({"Version": 1, "AccessKeyId": "ASIAPROCESS", "SecretAccessKey": "s3cret",
          "SessionToken": "tok", "Expiration": "2026-11-29T03:00:00Z"})");
  REQUIRE(full);
  CHECK(full->access_key_id == "ASIAPROCESS");
  CHECK(full->secret_access_key == "s3cret");
  CHECK(full->session_token == "tok");
  CHECK(full->expiration == parse_iso8601("2026-11-29T03:00:00Z"));
  auto long_term = parse_credential_process_output(
      R"({"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": "s"})");
  REQUIRE(long_term);
  CHECK(long_term->session_token.empty());
  CHECK_FALSE(long_term->expiration);

  auto version = parse_credential_process_output(
      R"({"Version": 2, "AccessKeyId": "AKIA", "SecretAccessKey": "s"})");
  REQUIRE_FALSE(version);
  CHECK(version.error().message == "credential_process output: Version must be 1");
  auto no_secret = parse_credential_process_output(R"({"Version": 1, "AccessKeyId": "AKIA"})");
  REQUIRE_FALSE(no_secret);
  CHECK(no_secret.error().message == "credential_process output: no usable secret access key");
  auto bad_time = parse_credential_process_output(
      R"({"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": "topsecret", "Expiration": "soon"})");
  REQUIRE_FALSE(bad_time);
  CHECK(bad_time.error().message.find("topsecret") == std::string::npos);
  CHECK_FALSE(parse_credential_process_output("not json"));
  CHECK_FALSE(parse_credential_process_output(
      R"({"Version": 1, "AccessKeyId": "AK IA", "SecretAccessKey": "s"})"));
}

TEST_CASE("aws: container and IMDS credentials", "[identity][aws]") {
  auto container = parse_metadata_credentials(
      R"({"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "sk", "Token": "tok",
          "Expiration": "2026-11-29T03:00:00Z", "RoleArn": "arn:aws:iam::1:role/x"})");
  REQUIRE(container);
  CHECK(container->access_key_id == "ASIACONTAINER");
  CHECK(container->session_token == "tok");
  CHECK(container->expiration);
  auto imds = parse_metadata_credentials(
      R"({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAIMDS",
          "SecretAccessKey": "sk", "Token": "tok", "Expiration": "2026-11-29T03:00:00Z"})");
  REQUIRE(imds);
  CHECK(imds->access_key_id == "ASIAIMDS");
  auto failed = parse_metadata_credentials(R"({"Code": "AssumeRoleUnauthorizedAccess"})");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message ==
        "credentials answer: Code is not Success but 'AssumeRoleUnauthorizedAccess'");
  CHECK_FALSE(parse_metadata_credentials("[]"));
  CHECK_FALSE(parse_metadata_credentials(R"({"AccessKeyId": "A"})"));
}

TEST_CASE("aws: STS AssumeRoleWithWebIdentity XML", "[identity][aws]") {
  const char* xml =
      R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:o/r:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <Credentials>
      <AccessKeyId>ASIASTS</AccessKeyId>
      <SecretAccessKey>wJalr/K7MDENG+bPxRfi</SecretAccessKey>
      <SessionToken>FwoGZXIvYXdzE&amp;Token</SessionToken>
      <Expiration>2026-11-29T03:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>)";
  auto credentials = parse_sts_credentials(xml);
  REQUIRE(credentials);
  CHECK(credentials->access_key_id == "ASIASTS");
  CHECK(credentials->secret_access_key == "wJalr/K7MDENG+bPxRfi");
  CHECK(credentials->session_token == "FwoGZXIvYXdzE&Token");
  CHECK(credentials->expiration == parse_iso8601("2026-11-29T03:00:00Z"));
  CHECK_FALSE(parse_sts_credentials("<Credentials><AccessKeyId>A</AccessKeyId></Credentials>"));
  CHECK_FALSE(parse_sts_credentials("<html>oops</html>"));
}

TEST_CASE("aws: error answers in AWS's JSON and XML", "[identity][aws]") {
  CHECK(describe_aws_error(R"({"__type": "com.amazonaws.ecr#AccessDeniedException",
                               "message": "User is not authorized"})") ==
        "AccessDeniedException: User is not authorized");
  CHECK(describe_aws_error(R"({"__type": "InvalidSignatureException", "Message": "bad"})") ==
        "InvalidSignatureException: bad");
  CHECK(describe_aws_error("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                           "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity"
                           "</Message></Error></ErrorResponse>") ==
        "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity");
  CHECK(describe_aws_error("") == "");
  CHECK(describe_aws_error(R"({"__type": "X\u001b[31m", "message": "m"})") == "X\\x1b[31m: m");
}

TEST_CASE("aws: GetAuthorizationToken answers decode to AWS and a password", "[identity][aws]") {
  std::string token = regauth::base64_encode("AWS:eyJwYXlsb2FkIjoi");
  auto private_answer =
      parse_ecr_authorization(R"({"authorizationData": [{"authorizationToken": ")" + token +
                              R"(", "expiresAt": 1795921200.5, "proxyEndpoint": "https://x"}]})");
  REQUIRE(private_answer);
  CHECK(private_answer->username == "AWS");
  CHECK(private_answer->password == "eyJwYXlsb2FkIjoi");
  CHECK(private_answer->expires_at == parse_iso8601("2026-11-29T03:00:00Z"));
  auto public_answer = parse_ecr_authorization(R"({"authorizationData": {"authorizationToken": ")" +
                                               token + R"(", "expiresAt": 1795921200}})");
  REQUIRE(public_answer);
  CHECK(public_answer->password == "eyJwYXlsb2FkIjoi");

  for (const std::string& bad : {
           std::string("{}"),
           std::string(R"({"authorizationData": []})"),
           std::string(R"({"authorizationData": [{"authorizationToken": "!!!"}]})"),
           R"({"authorizationData": [{"authorizationToken": ")" +
               regauth::base64_encode("nocolon") + R"("}]})",
           R"({"authorizationData": [{"authorizationToken": ")" +
               regauth::base64_encode("AWS:pass word") + R"("}]})",
           R"({"authorizationData": [{"authorizationToken": ")" + token +
               R"(", "expiresAt": -5}]})",
           R"({"authorizationData": [{"authorizationToken": ")" + token +
               R"(", "expiresAt": true}]})",
       }) {
    CAPTURE(bad);
    auto parsed = parse_ecr_authorization(bad);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().message.find("eyJwYXlsb2FkIjoi") == std::string::npos);
  }
}
