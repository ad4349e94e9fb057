#include "regauth/cli/commands.hpp"
#include "regauth/config/registry_key.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace regauth::cli {

int run_logout(const LogoutOptions& options, Context& context) {
  if (options.all && !options.server.empty()) {
    return report(context, make_error(ErrorKind::usage, "--all takes no SERVER"));
  }
  auto keychain = context.keychain();
  if (!keychain) {
    return report(context, keychain.error());
  }
  std::vector<std::string> keys;
  if (options.all) {
    auto listing = keychain->list();
    if (!listing) {
      return report(context, listing.error());
    }
    for (const auto& warning : listing->warnings) {
      context.warn(warning);
    }
    for (const auto& entry : listing->registries) {
      if (entry.store != "DOCKER_AUTH_CONFIG" &&
          std::find(keys.begin(), keys.end(), entry.key) == keys.end()) {
        keys.push_back(entry.key);
      }
    }
  } else {
    auto key = context.registry_key(options.server);
    if (!key) {
      return report(context, key.error());
    }
    keys.push_back(*key);
  }
  nlohmann::json results = nlohmann::json::array();
  std::optional<Error> failure;
  for (const auto& key : keys) {
    auto erased = keychain->erase(key);
    if (!erased) {
      // Keep going with the others; say what is left where.
      Error error = erased.error().with_context("removing credentials for " + key +
                                                " (they are still stored)");
      if (options.format != "json") {
        report(context, error);
      }
      results.push_back({{"registry", key}, {"error", error.message}});
      failure = error;
      continue;
    }
    for (const auto& warning : erased->warnings) {
      context.warn(warning);
    }
    results.push_back({{"registry", key}, {"removed_from", erased->removed_from}});
    if (options.format == "json") {
      continue;
    }
    if (erased->removed_from.empty()) {
      context.out << "Not logged in to " << key << "\n";
    } else {
      context.out << "Removing login credentials for " << key << "\n";
    }
  }
  if (options.format == "json") {
    context.out << (options.all ? results.dump() : results.at(0).dump()) << '\n';
  } else if (options.all && keys.empty()) {
    context.out << "No credentials stored\n";
  }
  return failure ? exit_code_for(failure->kind) : 0;
}

} // namespace regauth::cli
