// `regauth token REFERENCE [--push]`: a bearer token for the repository, for curl and scripts.
#include "regauth/auth/authenticator.hpp"
#include "regauth/cli/commands.hpp"
#include "regauth/registry/client_stack.hpp"
#include "regauth/registry/reference.hpp"

#include <ostream>

namespace regauth::cli {

int run_token(const TokenOptions& options, Context& context) {
  auto target = registry::parse_reference(options.reference);
  if (!target) {
    return report(context, target.error());
  }
  auto warm_up = warm_up_http(context.services);
  auto key = context.lookup_key(*target);
  if (!key) {
    return report(context, key.error());
  }
  auto keychain = context.keychain();
  if (!keychain) {
    return report(context, keychain.error());
  }
  auto found = keychain->get(*key);
  if (!found) {
    return report(context, found.error());
  }
  std::optional<credentials::Credentials> credentials;
  if (*found) {
    credentials = (*found)->credentials;
  }
  auto transport = context.transport();
  auto session = registry::make_registry_session(
      [&context, transport] { return context.services.make_http_client(transport); },
      target->registry, credentials, context.auth_options(transport, target->registry));
  auto& authenticator = session->authenticator();
  if (auto pinged = authenticator.ping(); !pinged) {
    return report(context, pinged.error());
  }
  const auto challenge = authenticator.challenge();
  if (!challenge) {
    return report(context,
                  make_error(ErrorKind::protocol,
                             target->registry + " asks for no authentication: it issues no tokens "
                                                "(send requests without Authorization)"));
  }
  if (challenge->scheme != "bearer") {
    return report(context,
                  make_error(ErrorKind::protocol,
                             target->registry +
                                 " uses Basic authentication: it issues no bearer tokens "
                                 "(send the username and password, e.g. from 'regauth get " +
                                 *key + "')"));
  }
  std::vector<std::string> actions = {"pull"};
  if (options.push) {
    actions.emplace_back("push");
  }
  auto authorization =
      authenticator.authorization({auth::repository_scope(target->repository, actions)});
  if (!authorization) {
    return report(context, authorization.error());
  }
  constexpr std::string_view k_prefix = "Bearer ";
  if (!*authorization || (*authorization)->rfind(k_prefix, 0) != 0) {
    return report(context,
                  make_error(ErrorKind::protocol, "the token server of " + target->registry +
                                                      " issued no bearer token"));
  }
  context.out << (*authorization)->substr(k_prefix.size()) << '\n';
  return 0;
}

} // namespace regauth::cli
