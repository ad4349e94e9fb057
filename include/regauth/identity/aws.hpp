// The pure parts of the AWS identity source: which hosts are ECR registries, and readers of
// what AWS and its credential providers answer (shared ini files, credential_process output,
// STS XML, container and IMDS JSON, ECR's GetAuthorizationToken). No I/O: src/identity/aws_ecr.cpp
// does the fetching; unit tests and tests/fuzz/aws_fuzz.cpp feed these bytes directly.
#pragma once

#include "regauth/result.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace regauth::identity::aws {

using TimePoint = std::chrono::system_clock::time_point;

// An ECR registry host, as the ECR credential helper reads it.
struct EcrHost {
  bool is_public = false; // public.ecr.aws (or its dual-stack ecr-public.aws.com)
  std::string account;    // 12 digits; empty for ECR Public
  std::string region;     // "us-east-1"; ECR Public is always us-east-1
  bool fips = false;      // dkr.ecr-fips
  bool dualstack = false; // ACCOUNT.dkr-ecr.REGION.on.aws
  std::string partition;  // "aws", "aws-cn", "aws-iso", ...
  std::string api_domain; // the partition's API domain: "amazonaws.com", "c2s.ic.gov", ...
};

// ACCOUNT.dkr.ecr[-fips].REGION.DOMAIN or ACCOUNT.dkr-ecr[-fips].REGION.DOMAIN with DOMAIN one
// of AWS's partitions (amazonaws.com, amazonaws.com.cn, amazonaws.eu, on.aws,
// on.amazonwebservices.com.cn, c2s.ic.gov, sc2s.sgov.gov, cloud.adc-e.uk, csp.hci.ic.gov), and
// public.ecr.aws / ecr-public.aws.com. nullopt for any other host, and for a host with a port.
std::optional<EcrHost> parse_ecr_host(std::string_view host);

// The GetAuthorizationToken endpoint AWS documents for the registry:
// https://api.ecr.REGION.DOMAIN, https://ecr-fips.REGION.DOMAIN, or for ECR Public
// https://api.ecr-public.us-east-1.amazonaws.com.
std::string ecr_api_endpoint(const EcrHost& host);

// AWS keys, as every provider of the chain yields them.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;           // empty for long-term keys
  std::optional<TimePoint> expiration; // nullopt: does not expire
};

// Sections of an AWS shared config or credentials file: section name -> key -> value. Keys are
// lower-cased (as botocore's configparser does), values trimmed; comment lines ('#', ';') and
// indented sub-section lines (`s3 =` followed by `  key = value`) are skipped. Fails (config)
// on a line that is neither a section, a key = value pair nor a comment, naming the line.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;
Result<IniSections> parse_ini(std::string_view text);

// An ISO 8601 / RFC 3339 time ("2026-11-29T03:00:00Z", fractions and offsets allowed).
std::optional<TimePoint> parse_iso8601(std::string_view text);

// credential_process output: {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?,
// "Expiration"?}. Fails (protocol) naming the missing or malformed member, never its value.
Result<AwsCredentials> parse_credential_process_output(std::string_view json);

// The answer of the ECS/EKS container credentials endpoint and of IMDS's
// security-credentials/ROLE: {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"} (IMDS
// adds "Code": "Success"). Fails (protocol) on anything else.
Result<AwsCredentials> parse_metadata_credentials(std::string_view json);

// STS AssumeRoleWithWebIdentity's XML answer: Credentials/{AccessKeyId, SecretAccessKey,
// SessionToken, Expiration}. Fails (protocol) when one is missing.
Result<AwsCredentials> parse_sts_credentials(std::string_view xml);

// An AWS error answer, JSON ({"__type": "ns#AccessDeniedException", "message": "..."}) or XML
// (<Error><Code>AccessDenied</Code><Message>...</Message></Error>), as "Code: message", printable
// and capped; "" when the body carries no error.
std::string describe_aws_error(std::string_view body);

// ECR's authorization token: username and password decoded from base64 "AWS:<password>".
struct EcrAuthorization {
  std::string username;
  std::string password;
  std::optional<TimePoint> expires_at;
};

// GetAuthorizationToken's JSON answer: {"authorizationData": [{"authorizationToken",
// "expiresAt" (epoch seconds), ...}]} (ECR Public: an object, not a list). Fails (protocol) on
// a malformed token, naming what is wrong but never the token.
Result<EcrAuthorization> parse_ecr_authorization(std::string_view json);

} // namespace regauth::identity::aws
