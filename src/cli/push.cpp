#include "regauth/auth/authenticator.hpp"
#include "regauth/cli/commands.hpp"
#include "regauth/cli/terminal.hpp"
#include "regauth/config/registry_key.hpp"
#include "regauth/http/url.hpp"
#include "regauth/image/image_source.hpp"
#include "regauth/push/pusher.hpp"
#include "regauth/registry/reference.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <ostream>
#include <unistd.h>

namespace regauth::cli {
namespace {

std::string short_id(const std::string& digest) {
  auto colon = digest.find(':');
  return digest.substr(colon == std::string::npos ? 0 : colon + 1, 12);
}

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

const char* event_name(push::EventKind kind) {
  switch (kind) {
  case push::EventKind::gate:
    return "gate";
  case push::EventKind::blob_started:
    return "blob_started";
  case push::EventKind::blob_progress:
    return "blob_progress";
  case push::EventKind::blob_skipped:
    return "blob_skipped";
  case push::EventKind::blob_mounted:
    return "blob_mounted";
  case push::EventKind::blob_uploaded:
    return "blob_uploaded";
  case push::EventKind::manifest:
    return "manifest";
  case push::EventKind::manifest_present:
    return "manifest_present";
  case push::EventKind::done:
    return "done";
  }
  return "event";
}

// Renders push events: live lines per blob on a terminal, one line per finished blob otherwise,
// JSON lines for --format json, nothing for --quiet.
class ProgressView {
public:
  ProgressView(std::ostream& out, bool json, bool quiet, bool live)
      : m_out(out), m_json(json), m_quiet(quiet), m_live(live) {}

  void on_event(const push::Event& event) {
    if (m_json) {
      if (event.kind == push::EventKind::blob_progress) {
        return;
      }
      nlohmann::json line = {{"event", event_name(event.kind)}};
      if (!event.digest.empty()) {
        line["digest"] = event.digest;
      }
      if (event.total) {
        line["size"] = event.total;
      }
      if (!event.detail.empty()) {
        line[event.kind == push::EventKind::gate ? "repository" : "detail"] = event.detail;
      }
      m_out << json_line(line) << '\n' << std::flush;
      return;
    }
    if (m_quiet || event.kind == push::EventKind::gate || event.kind == push::EventKind::done ||
        event.kind == push::EventKind::manifest ||
        event.kind == push::EventKind::manifest_present ||
        (!m_live && event.kind == push::EventKind::blob_progress)) {
      return;
    }
    std::string id = short_id(event.digest);
    std::string text;
    switch (event.kind) {
    case push::EventKind::blob_started:
      text = "Pushing";
      break;
    case push::EventKind::blob_progress:
      text = progress_text(event);
      break;
    case push::EventKind::blob_skipped:
      text = "Layer already exists";
      break;
    case push::EventKind::blob_mounted:
      text = "Mounted from " + event.detail;
      break;
    case push::EventKind::blob_uploaded:
      text = "Pushed " + human_bytes(event.total);
      break;
    default:
      return;
    }
    if (!m_live) {
      if (event.kind != push::EventKind::blob_progress &&
          event.kind != push::EventKind::blob_started) {
        m_out << id << ": " << escape_for_terminal(text) << '\n' << std::flush;
      }
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (event.kind == push::EventKind::blob_progress &&
        now - m_last_draw < std::chrono::milliseconds(100)) {
      set_line(id, text);
      return;
    }
    set_line(id, text);
    redraw();
    m_last_draw = now;
  }

  void finish() {
    if (m_live && !m_order.empty()) {
      redraw();
    }
  }

private:
  std::string progress_text(const push::Event& event) {
    auto& start = m_started[event.digest];
    auto now = std::chrono::steady_clock::now();
    if (start == std::chrono::steady_clock::time_point{}) {
      start = now;
    }
    double seconds = std::chrono::duration<double>(now - start).count();
    std::string rate = seconds > 0.2 ? "  " +
                                           human_bytes(static_cast<std::uint64_t>(
                                               static_cast<double>(event.bytes) / seconds)) +
                                           "/s"
                                     : "";
    int width = 30;
    int filled = event.total ? static_cast<int>(static_cast<double>(width) *
                                                static_cast<double>(event.bytes) /
                                                static_cast<double>(event.total))
                             : 0;
    std::string bar(static_cast<std::size_t>(std::clamp(filled, 0, width)), '=');
    if (static_cast<int>(bar.size()) < width) {
      bar += '>';
    }
    bar.resize(static_cast<std::size_t>(width), ' ');
    return "Pushing [" + bar + "] " + human_bytes(event.bytes) + "/" + human_bytes(event.total) +
           rate;
  }

  void set_line(const std::string& id, const std::string& text) {
    if (m_lines.find(id) == m_lines.end()) {
      m_order.push_back(id);
    }
    m_lines[id] = escape_for_terminal(text);
  }

  void redraw() {
    if (m_drawn > 0) {
      m_out << "\033[" << m_drawn << "A";
    }
    for (const auto& id : m_order) {
      m_out << "\r\033[K" << id << ": " << m_lines[id] << '\n';
    }
    m_drawn = m_order.size();
    m_out << std::flush;
  }

  std::ostream& m_out;
  bool m_json;
  bool m_quiet;
  bool m_live;
  std::vector<std::string> m_order;
  std::map<std::string, std::string> m_lines;
  std::map<std::string, std::chrono::steady_clock::time_point> m_started;
  std::size_t m_drawn = 0;
  std::chrono::steady_clock::time_point m_last_draw{};
};

} // namespace

int run_push(const PushOptions& options, Context& context) {
  auto target = registry::parse_reference(options.reference);
  if (!target) {
    return report(context, target.error());
  }
  if (options.jobs < 1 || options.jobs > 32) {
    return report(context, make_error(ErrorKind::usage, "--jobs must be between 1 and 32"));
  }
  auto warm_up = warm_up_http(context.services);
  std::unique_ptr<image::ImageSource> source;
  if (!options.check) {
    auto opened = image::open_image_source(options.source);
    if (!opened) {
      return report(context, opened.error().with_context("reading " + options.source));
    }
    source = std::move(*opened);
  }
  auto key = config::normalize_registry_key(target->registry);
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
  warn_duplicate_keys(context);
  if (!*found) {
    // A helper named for this very registry that has nothing: stop before contacting it, so a
    // broken or unconfigured helper never turns into an anonymous attempt.
    auto choice = keychain->choice_for(*key);
    if (choice && choice->kind == credentials::StoreKind::helper &&
        choice->origin == "credHelpers") {
      return report(context,
                    make_error(ErrorKind::helper,
                               "docker-credential-" + choice->helper + " has no credentials for " +
                                   *key +
                                   " (it answered: credentials not found); nothing was "
                                   "sent: configure the helper, or remove its credHelpers entry"));
    }
  }
  push::Identity identity;
  std::optional<credentials::Credentials> credentials;
  if (*found) {
    credentials = (*found)->credentials;
    identity.source = (*found)->source;
    identity.username = credentials->username.empty() ? std::string(credentials::k_token_username)
                                                      : credentials->username;
  }
  auto transport = context.transport();
  auto auth_client = context.services.make_http_client(transport);
  auth::AuthOptions auth_options;
  auth_options.trusted_realms = context.global.trusted_realms;
  auto url = http::parse_url("https://" + target->registry + "/");
  auth_options.may_use_http = url && http::allows_insecure(transport, *url);
  auth_options.http_first = url && http::prefers_plain_http(transport, *url);
  auth::Authenticator authenticator(*auth_client, target->registry, credentials, auth_options);

  bool json = options.format == "json";
  ProgressView view(context.out, json, options.quiet,
                    !json && !options.quiet && ::isatty(STDOUT_FILENO) == 1);
  push::PushOptions push_options;
  push_options.jobs = options.jobs;
  push_options.mount_from = options.mount_from;
  push_options.upload.chunk_threshold =
      static_cast<std::uint64_t>(options.chunk_threshold_mib * 1024 * 1024);
  push_options.upload.chunk_size = static_cast<std::uint64_t>(options.chunk_size_mib * 1024 * 1024);
  auto make_client = [&context, transport] { return context.services.make_http_client(transport); };
  push::Pusher pusher(make_client, authenticator, *auth_client, *target, identity, push_options,
                      [&view](const push::Event& event) { view.on_event(event); });

  auto fail = [&](const Error& error) {
    if (json) {
      context.out << json_line({{"event", "error"},
                                {"kind", to_string(error.kind)},
                                {"message", error.message}})
                  << '\n';
    }
    int code = report(context, error);
    if (error.kind == ErrorKind::unauthorized) {
      context.err << "hint: regauth login " << (*key == config::k_docker_hub_key ? "" : *key)
                  << '\n';
    }
    return code;
  };

  std::string probe;
  if (source && !source->blobs().empty()) {
    probe = source->blobs().front().digest;
  }
  // Not for --check: it sends nothing either way.
  const image::Manifest* top = source && !options.check && !source->manifests().empty()
                                   ? &source->manifests().back()
                                   : nullptr;
  if (auto gate = pusher.run_gate(probe, top); !gate) {
    return fail(gate.error());
  }
  if (options.check) {
    std::string who = identity.username.empty() ? "anonymously" : "as " + identity.username;
    auto cancelled = pusher.cancel_gate_session();
    if (json) {
      context.out << json_line({{"event", "check"},
                                {"allowed", true},
                                {"repository", target->registry + "/" + target->repository},
                                {"username", identity.username},
                                {"session_cancelled", cancelled.has_value()}})
                  << '\n';
    } else {
      context.out << escape_for_terminal(
                         "Push allowed to " + target->registry + "/" + target->repository + " " +
                         who + (identity.source.empty() ? "" : " (from " + identity.source + ")"))
                  << '\n';
    }
    if (!cancelled) {
      context.warn("the upload session regauth opened could not be cancelled; it expires on "
                   "its own: " +
                   cancelled.error().message);
    }
    return 0;
  }
  auto result = pusher.push(*source);
  view.finish();
  if (!result) {
    return fail(result.error());
  }
  if (!json) {
    context.out << escape_for_terminal(result->reference)
                << ": digest: " << escape_for_terminal(result->digest) << " size: " << result->size
                << '\n';
  }
  return 0;
}

} // namespace regauth::cli
