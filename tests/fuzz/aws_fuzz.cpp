// AWS's answers and files: the first byte picks the parser (ECR host, shared ini file,
// credential_process JSON, container/IMDS JSON, STS XML, AWS error, GetAuthorizationToken).
// Whatever they accept is usable in a header and never echoes a secret in an error.
#include "regauth/identity/aws.hpp"

#include "fuzz_check.hpp"

#include <cstdint>
#include <string_view>

namespace {

bool header_safe(std::string_view text) {
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

void check_credentials(const regauth::Result<regauth::identity::aws::AwsCredentials>& parsed) {
  if (!parsed) {
    return;
  }
  FUZZ_CHECK(!parsed->access_key_id.empty() && header_safe(parsed->access_key_id));
  FUZZ_CHECK(!parsed->secret_access_key.empty() && header_safe(parsed->secret_access_key));
  FUZZ_CHECK(header_safe(parsed->session_token));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace aws = regauth::identity::aws;
  if (size == 0) {
    return 0;
  }
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
  case 0:
    if (auto host = aws::parse_ecr_host(input)) {
      FUZZ_CHECK(!host->region.empty() && header_safe(host->region));
      FUZZ_CHECK(host->is_public || host->account.size() == 12);
      FUZZ_CHECK(aws::ecr_api_endpoint(*host).rfind("https://", 0) == 0);
    }
    break;
  case 1:
    if (auto sections = aws::parse_ini(input)) {
      for (const auto& [name, keys] : *sections) {
        FUZZ_CHECK(name.find('\n') == std::string::npos);
        for (const auto& [key, value] : keys) {
          FUZZ_CHECK(!key.empty() && key.find('\n') == std::string::npos);
          FUZZ_CHECK(value.find('\n') == std::string::npos);
        }
      }
    }
    break;
  case 2:
    check_credentials(aws::parse_credential_process_output(input));
    break;
  case 3:
    check_credentials(aws::parse_metadata_credentials(input));
    break;
  case 4:
    check_credentials(aws::parse_sts_credentials(input));
    break;
  case 5: {
    auto text = aws::describe_aws_error(input);
    for (char c : text) {
      FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\t');
    }
    break;
  }
  default:
    if (auto authorization = aws::parse_ecr_authorization(input)) {
      FUZZ_CHECK(header_safe(authorization->username) && !authorization->username.empty());
      FUZZ_CHECK(header_safe(authorization->password) && !authorization->password.empty());
    }
    break;
  }
  return 0;
}
