// Shell completion: `regauth __complete WORD...` (hidden), called by the bash, zsh and fish
// scripts in completions/. The words are those after `regauth` on the command line, the last
// one being the word under the cursor (empty after a space). It prints one candidate per line,
// `WORD<TAB>DESCRIPTION`, or a directive line: `:file` (complete file names) or `:dir`
// (directory names). Commands and flags come from the CLI11 tree itself, so a new command or
// flag completes with no edit here; registry names come from the stored credentials (the same
// listing as `regauth ls`: registries and usernames, never a secret).
#include "regauth/cli/commands.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace regauth::cli {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool is_flag_word(const std::string& word) { return word.size() > 1 && word.front() == '-'; }

// True when the option takes a value (`--config DIR`), false for a flag (`--debug`).
bool takes_value(const CLI::Option& option) { return option.get_expected_min() > 0; }

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

void print_candidate(std::ostream& out, const std::string& word, const std::string& description) {
  out << word;
  if (!description.empty()) {
    out << '\t' << first_line(description);
  }
  out << '\n';
}

// The flags of `command` that start with `prefix`: long names, and short names when the
// prefix asks for them.
void complete_flags(const CLI::App& command, const std::string& prefix, std::ostream& out) {
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_positional() || option->get_group().empty()) {
      continue;
    }
    for (const auto& name : option->get_lnames()) {
      if (starts_with("--" + name, prefix)) {
        print_candidate(out, "--" + name, option->get_description());
      }
    }
    if (prefix.size() <= 2 && !starts_with(prefix, "--")) {
      for (const auto& name : option->get_snames()) {
        if (starts_with("-" + name, prefix)) {
          print_candidate(out, "-" + name, option->get_description());
        }
      }
    }
  }
}

// The value of an option: the choices of a `{a,b}` set, a directory, a file, or nothing.
void complete_value(const CLI::Option& option, const std::string& prefix, std::ostream& out) {
  const std::string type = option.get_type_name();
  const auto open = type.find('{');
  const auto close = type.find('}', open == std::string::npos ? 0 : open);
  if (open != std::string::npos && close != std::string::npos) {
    std::string choices = type.substr(open + 1, close - open - 1);
    std::size_t start = 0;
    while (start <= choices.size()) {
      auto end = choices.find(',', start);
      if (end == std::string::npos) {
        end = choices.size();
      }
      std::string choice = choices.substr(start, end - start);
      if (!choice.empty() && starts_with(choice, prefix)) {
        print_candidate(out, choice, "");
      }
      start = end + 1;
    }
    return;
  }
  const std::string& description = option.get_description();
  if (description.find("Directory") != std::string::npos ||
      description.find("directory") != std::string::npos) {
    out << ":dir\n";
  } else if (description.find("FILE") != std::string::npos ||
             description.find("file") != std::string::npos) {
    out << ":file\n";
  }
}

// Registries with stored credentials that start with `prefix`; nothing when the config cannot
// be read (completion never prints errors).
void complete_registries(Context& context, const std::string& prefix, std::ostream& out) {
  auto keychain = context.keychain();
  if (!keychain) {
    return;
  }
  auto listing = keychain->list();
  if (!listing) {
    return;
  }
  std::set<std::string> keys;
  for (const auto& entry : listing->registries) {
    if (starts_with(entry.key, prefix)) {
      keys.insert(entry.key);
    }
  }
  for (const auto& key : keys) {
    print_candidate(out, key, "");
  }
}

// The commands that start with `prefix`, with their summaries.
void complete_commands(CLI::App& root, const std::string& prefix, std::ostream& out) {
  for (CLI::App* sub : root.get_subcommands(
           [](CLI::App* sub) { return !sub->get_group().empty() && !sub->get_name().empty(); })) {
    if (starts_with(sub->get_name(), prefix)) {
      print_candidate(out, sub->get_name(), sub->get_description());
    }
  }
}

// A positional argument: registries for a `server` or `registry`, files for a `source` or a
// `file`, commands for a `command` (`regauth help COMMAND`).
void complete_positional(const CLI::Option& positional, Context& context, CLI::App& root,
                         const std::string& prefix, std::ostream& out) {
  const std::string name = positional.get_name(true);
  if (name == "command") {
    complete_commands(root, prefix, out);
  } else if (name.find("server") != std::string::npos ||
             name.find("registry") != std::string::npos) {
    complete_registries(context, prefix, out);
  } else if (name.find("source") != std::string::npos || name.find("file") != std::string::npos) {
    out << ":file\n";
  }
}

} // namespace

int run_complete(const std::vector<std::string>& words, Context& context, CLI::App& root) {
  const std::string current = words.empty() ? std::string() : words.back();
  const std::size_t before = words.empty() ? 0 : words.size() - 1;
  CLI::App* command = nullptr;
  const CLI::Option* pending = nullptr; // an option whose value is the current word
  std::vector<CLI::Option*> given_globals;
  std::size_t positionals = 0;
  bool only_positionals = false;
  for (std::size_t i = 0; i < before; ++i) {
    const std::string& word = words[i];
    if (only_positionals || !is_flag_word(word)) {
      if (command == nullptr && !only_positionals) {
        auto found = root.get_subcommands([&](CLI::App* sub) { return sub->get_name() == word; });
        if (found.empty()) {
          return 0; // an unknown command: nothing to offer
        }
        command = found.front();
      } else {
        ++positionals;
      }
      continue;
    }
    if (word == "--") {
      only_positionals = true;
      continue;
    }
    const auto equals = word.find('=');
    const std::string name = word.substr(0, equals);
    CLI::App& scope = command != nullptr ? *command : root;
    CLI::Option* option = scope.get_option_no_throw(name);
    bool global = command == nullptr;
    if (option == nullptr && command != nullptr) {
      option = root.get_option_no_throw(name); // global options may follow the command
      global = true;
    }
    if (option == nullptr || !takes_value(*option)) {
      continue;
    }
    std::string value;
    if (equals != std::string::npos) {
      value = word.substr(equals + 1);
    } else if (i + 1 < before) {
      value = words[++i];
    } else {
      pending = option;
      break;
    }
    if (global) {
      // `--config DIR` and the like apply to the listing of stored registries.
      option->add_result(value);
      if (std::find(given_globals.begin(), given_globals.end(), option) == given_globals.end()) {
        given_globals.push_back(option);
      }
    }
  }
  for (CLI::Option* option : given_globals) {
    try {
      option->run_callback();
    } catch (const CLI::Error&) {
      // a value that does not validate: complete as if it were not there
    }
  }

  std::ostream& out = context.out;
  if (pending != nullptr) {
    complete_value(*pending, current, out);
    return 0;
  }
  if (is_flag_word(current) && !only_positionals) {
    complete_flags(command != nullptr ? *command : root, current, out);
    return 0;
  }
  if (command == nullptr) {
    complete_commands(root, current, out);
    return 0;
  }
  auto arguments = command->get_options([](const CLI::Option* option) {
    return option->get_positional() && option->get_lnames().empty() && option->get_snames().empty();
  });
  if (arguments.empty()) {
    return 0;
  }
  // The positional the current word fills; a repeatable last one takes every later word.
  const CLI::Option* target = positionals < arguments.size() ? arguments[positionals] : nullptr;
  if (target == nullptr && arguments.back()->get_expected_max() > 1) {
    target = arguments.back();
  }
  if (target != nullptr) {
    complete_positional(*target, context, root, current, out);
  }
  return 0;
}

} // namespace regauth::cli
