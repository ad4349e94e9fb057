#include "regauth/cli/commands.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>
#include <string>
#include <string_view>

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
  auto registries = std::move(listing->registries);
  // The listing usually comes in order: checked in one pass, sorted only when it is not
  // (strictly increasing keys: a sort could not change that order).
  auto before = [](const auto& a, const auto& b) { return a.key < b.key; };
  if (std::adjacent_find(registries.begin(), registries.end(), [&](const auto& a, const auto& b) {
        return !before(a, b);
      }) != registries.end()) {
    std::sort(registries.begin(), registries.end(), before);
  }
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
  auto escape = [](std::string& text) {
    // Printable ASCII passes unchanged: only other text is copied through the sanitiser.
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
      text = escape_for_terminal(text);
    }
  };
  for (auto& entry : registries) {
    escape(entry.key);
    escape(entry.username);
    escape(entry.store);
  }
  std::size_t key_width = 8;
  std::size_t user_width = 8;
  std::size_t store_width = 5;
  for (const auto& entry : registries) {
    key_width = std::max(key_width, entry.key.size());
    user_width = std::max(user_width, entry.identity ? std::size_t{10} : entry.username.size());
    store_width = std::max(store_width, entry.store.size());
  }
  // Written in blocks of k_block bytes: a config.json can hold 100,000 entries, and one buffer
  // for all of them would be megabytes of fresh memory to fault in.
  constexpr std::size_t k_block = 64 * 1024;
  std::string table;
  table.reserve(k_block + key_width + user_width + store_width + 8);
  auto add_cell = [&table](std::string_view text, std::size_t width) {
    table += text;
    table.append(width > text.size() ? width - text.size() : 0, ' ');
  };
  add_cell("REGISTRY", key_width + 2);
  add_cell("USERNAME", user_width + 2);
  table += "STORE\n";
  for (const auto& entry : registries) {
    add_cell(entry.key, key_width + 2);
    add_cell(entry.identity ? std::string_view("(identity)") : std::string_view(entry.username),
             user_width + 2);
    table += entry.store;
    table += '\n';
    if (table.size() >= k_block) {
      context.out.write(table.data(), static_cast<std::streamsize>(table.size()));
      table.clear();
    }
  }
  context.out.write(table.data(), static_cast<std::streamsize>(table.size()));
  return 0;
}

} // namespace regauth::cli
