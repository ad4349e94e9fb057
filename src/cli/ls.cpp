#include "regauth/cli/commands.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iomanip>
#include <ostream>

namespace regauth::cli {

int run_ls(const LsOptions& options, Context& context) {
  auto keychain = context.keychain();
  if (!keychain) {
    return report(context, keychain.error());
  }
  auto listing = keychain->list();
  if (!listing) {
    return report(context, listing.error());
  }
  for (const auto& warning : listing->warnings) {
    context.warn(warning);
  }
  auto registries = listing->registries;
  std::sort(registries.begin(), registries.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  if (options.format == "json") {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& entry : registries) {
      nlohmann::json row = {
          {"registry", entry.key}, {"store", entry.store}, {"username", entry.username}};
      if (entry.identity) {
        row["identity"] = true;
      }
      entries.push_back(std::move(row));
    }
    context.out << json_line(entries) << '\n';
    return 0;
  }
  // Keys, usernames and store names come from config.json and from helpers: escaped, they can
  // neither drive the terminal nor hide a character.
  for (auto& entry : registries) {
    entry.key = escape_for_terminal(entry.key);
    entry.username = escape_for_terminal(entry.username);
    entry.store = escape_for_terminal(entry.store);
  }
  std::size_t key_width = 8;
  std::size_t user_width = 8;
  for (const auto& entry : registries) {
    key_width = std::max(key_width, entry.key.size());
    user_width = std::max(user_width, entry.identity ? std::size_t{10} : entry.username.size());
  }
  context.out << std::left << std::setw(static_cast<int>(key_width + 2)) << "REGISTRY"
              << std::setw(static_cast<int>(user_width + 2)) << "USERNAME"
              << "STORE\n";
  for (const auto& entry : registries) {
    context.out << std::left << std::setw(static_cast<int>(key_width + 2)) << entry.key
                << std::setw(static_cast<int>(user_width + 2))
                << (entry.identity ? std::string("(identity)") : entry.username) << entry.store
                << '\n';
  }
  return 0;
}

} // namespace regauth::cli
