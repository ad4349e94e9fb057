// `regauth get REGISTRY`: what a credential helper's `get` prints, from whichever store holds
// the credentials regauth would use.
#include "regauth/cli/commands.hpp"
#include "regauth/config/config_file.hpp"
#include "regauth/credentials/credentials.hpp"

#include <ostream>

namespace regauth::cli {

Result<credentials::FoundCredentials> find_credentials(credentials::Keychain& keychain,
                                                       const std::string& key) {
  auto found = keychain.get(key);
  if (!found) {
    return found.error();
  }
  if (!*found) {
    return make_error(ErrorKind::unauthorized, "no credentials for " + key + " (looked in " +
                                                   keychain.config_path().string() +
                                                   " and the credential helpers it names)");
  }
  return std::move(**found);
}

namespace {

// The helper's answer with Go's field order (the struct's): ServerURL, Username, Secret.
std::string get_answer(const std::string& server_url, const credentials::Credentials& found) {
  config::Json answer = config::Json::object();
  answer["ServerURL"] = server_url;
  bool token = !found.identity_token.empty();
  answer["Username"] = token ? std::string(credentials::k_token_username) : found.username;
  answer["Secret"] = token ? found.identity_token : found.password;
  return answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

int run_get(const GetOptions& options, Context& context) {
  auto key = context.registry_key(options.server);
  if (!key) {
    return report(context, key.error());
  }
  auto keychain = context.keychain();
  if (!keychain) {
    return report(context, keychain.error());
  }
  auto found = find_credentials(*keychain, *key);
  if (!found) {
    return report(context, found.error());
  }
  context.out << get_answer(*key, found->credentials) << '\n';
  return 0;
}

} // namespace regauth::cli
