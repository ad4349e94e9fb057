#include "regauth/cli/commands.hpp"
#include "regauth/config/registry_key.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_set>

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
    std::unordered_set<std::string_view> seen; // views of the listing's keys
    seen.reserve(listing->registries.size());
    keys.reserve(listing->registries.size());
    for (const auto& entry : listing->registries) {
      if (!entry.in_memory && seen.insert(entry.key).second) {
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
  const bool json = options.format == "json";
  nlohmann::json results = nlohmann::json::array();
  // Standard output is gathered and written before anything goes to standard error (so the two
  // keep their order), and at the end: `logout --all` may print 100,000 lines.
  std::string lines;
  auto flush = [&] {
    context.out.write(lines.data(), static_cast<std::streamsize>(lines.size()));
    lines.clear();
  };
  // Appends one line of text parts; the other parts are `key` and `store`, each escaped as
  // needed (printable ASCII passes unchanged: only other text goes through the sanitiser).
  // Written in blocks: `logout --all` may print 100,000 lines.
  auto add_line = [&](std::initializer_list<std::string_view> parts) {
    for (std::string_view part : parts) {
      if (std::all_of(part.begin(), part.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
        lines += part;
      } else {
        lines += escape_for_terminal(part);
      }
    }
    lines += '\n';
    if (lines.size() >= 64 * 1024) {
      flush();
    }
  };
  std::optional<Error> failure;
  // One read and at most one write of config.json for all of them.
  auto outcomes = keychain->erase_all(keys, options.dry_run);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    auto& erased = outcomes[i];
    if (!erased) {
      // Keep going with the others; say what is left where.
      Error error = erased.error().with_context("removing credentials for " + key +
                                                " (they are still stored)");
      if (json) {
        results.push_back({{"registry", key}, {"error", error.message}});
      } else {
        flush();
        report(context, error);
      }
      failure = error;
      continue;
    }
    if (!erased->warnings.empty()) {
      flush();
    }
    for (const auto& warning : erased->warnings) {
      context.warn(warning);
    }
    // The JSON answer is only built when asked for: `logout --all` may remove 100,000 entries.
    nlohmann::json result;
    if (json) {
      result = {{"registry", key}, {"removed_from", erased->removed_from}};
      if (options.dry_run) {
        result["dry_run"] = true;
      }
    }
    std::optional<Error> helper_failure;
    if (erased->helper_failure) {
      // What the other stores held is gone all the same; the helper's failure is still an error.
      helper_failure = erased->helper_failure->with_context(
          "removing credentials for " + key + " from its credential helper (they may still be " +
          "stored there)");
      failure = helper_failure;
    }
    if (json) {
      if (helper_failure) {
        result["error"] = helper_failure->message;
        result["exit_code"] = exit_code_for(helper_failure->kind);
      }
      results.push_back(std::move(result));
      continue;
    }
    if (options.dry_run) {
      for (const auto& store : erased->removed_from) {
        add_line({"Would remove login credentials for ", key, " from ", store});
      }
    } else if (options.all) {
      for (const auto& store : erased->removed_from) {
        add_line({"Removing login credentials for ", key, " from ", store});
      }
    } else if (!erased->removed_from.empty()) {
      add_line({"Removing login credentials for ", key});
    } else if (!helper_failure) {
      add_line({"Not logged in to ", key});
    }
    if (helper_failure) {
      flush();
      report(context, *helper_failure);
    }
  }
  flush();
  if (json) {
    context.out << json_line(options.all ? results : results.at(0)) << '\n';
  } else if (options.all && keys.empty()) {
    context.out << "No credentials stored\n";
  }
  return failure ? exit_code_for(failure->kind) : 0;
}

} // namespace regauth::cli
