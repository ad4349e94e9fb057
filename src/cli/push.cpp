#include "regauth/auth/authenticator.hpp"
#include "regauth/cli/commands.hpp"
#include "regauth/cli/terminal.hpp"
#include "regauth/config/config_store.hpp"
#include "regauth/config/registry_key.hpp"
#include "regauth/http/url.hpp"
#include "regauth/image/compressed_source.hpp"
#include "regauth/image/image_source.hpp"
#include "regauth/push/pusher.hpp"
#include "regauth/registry/client_stack.hpp"
#include "regauth/registry/reference.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <ostream>
#include <pthread.h>
#include <sys/ioctl.h>
#include <thread>
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
  case push::EventKind::compressed:
    return "compressed";
  }
  return "event";
}

// --format json reports a blob's bytes after each further 256 KiB, at most every 100 ms.
constexpr std::uint64_t k_json_progress_step = 256 * 1024;
constexpr auto k_json_progress_interval = std::chrono::milliseconds(100);
// The live lines never get narrower than this, whatever the terminal says.
constexpr std::size_t k_min_columns = 20;

// The columns of the terminal on stdout; 80 when it does not say.
std::size_t terminal_columns() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return std::max<std::size_t>(size.ws_col, k_min_columns);
  }
  return 80;
}

// Renders push events: live lines per blob on a terminal, one line per finished blob otherwise,
// JSON lines for --format json, nothing for --quiet.
class ProgressView {
public:
  ProgressView(std::ostream& out, bool json, bool quiet, bool live)
      : m_out(out), m_json(json), m_quiet(quiet), m_live(live) {}

  // A compressed layer the blob-info cache knew is shown by its diff_id, as the layers
  // compressed on the way are (and as `docker push` shows every layer).
  void show_as(const std::string& digest, const std::string& diff_id) {
    m_shown_as[digest] = diff_id;
  }

  void on_event(const push::Event& event) {
    if (m_json) {
      if (event.kind == push::EventKind::blob_progress && !json_progress_due(event)) {
        return;
      }
      nlohmann::json line = {{"event", event_name(event.kind)}};
      if (!event.digest.empty()) {
        line["digest"] = event.digest;
      }
      if (event.kind == push::EventKind::blob_progress) {
        line["bytes"] = event.bytes;
      }
      if (event.kind == push::EventKind::compressed) {
        line["size"] = event.bytes; // the compressed blob's
        line["diff_id"] = event.diff_id;
        line["cached"] = event.cached;
      } else if (event.kind != push::EventKind::gate) {
        line["size"] = event.total;
      }
      if (!event.detail.empty()) {
        line[event.kind == push::EventKind::gate ? "repository" : "detail"] = event.detail;
      }
      m_out << json_line(line) << '\n' << std::flush;
      return;
    }
    if (m_quiet || event.kind == push::EventKind::gate || event.kind == push::EventKind::done ||
        event.kind == push::EventKind::compressed || event.kind == push::EventKind::manifest ||
        event.kind == push::EventKind::manifest_present ||
        (!m_live && event.kind == push::EventKind::blob_progress)) {
      return;
    }
    auto shown = m_shown_as.find(event.digest);
    std::string id = short_id(shown != m_shown_as.end() ? shown->second : event.digest);
    std::string text;
    switch (event.kind) {
    case push::EventKind::blob_started:
      text = "Pushing";
      break;
    case push::EventKind::blob_progress:
      text = progress_text(event, terminal_columns() - 1 - id.size() - 2);
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
  // True for a blob_progress event --format json prints: the first after 256 KiB more of the
  // blob than the last one printed, 100 ms after it; never the last bytes (blob_uploaded).
  bool json_progress_due(const push::Event& event) {
    auto& [bytes, when] = m_json_progress[event.digest];
    auto now = std::chrono::steady_clock::now();
    if (event.bytes >= event.total || event.bytes < bytes + k_json_progress_step ||
        (when != std::chrono::steady_clock::time_point{} &&
         now - when < k_json_progress_interval)) {
      return false;
    }
    bytes = event.bytes;
    when = now;
    return true;
  }

  // "Pushing [=====>    ] 1.2 MiB/2.0 MiB  3.4 MiB/s" in at most `columns` columns: the bar
  // narrows, then the rate goes, then the bar.
  std::string progress_text(const push::Event& event, std::size_t columns) {
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
    std::string amounts = human_bytes(event.bytes) + "/" + human_bytes(event.total);
    constexpr std::size_t k_frame = 11; // "Pushing [" "] "
    constexpr std::size_t k_min_bar = 5;
    if (k_frame + k_min_bar + amounts.size() + rate.size() > columns) {
      rate.clear();
    }
    if (k_frame + k_min_bar + amounts.size() > columns) {
      return "Pushing " + amounts;
    }
    int width = static_cast<int>(
        std::min<std::size_t>(30, columns - k_frame - amounts.size() - rate.size()));
    int filled = event.total ? static_cast<int>(static_cast<double>(width) *
                                                static_cast<double>(event.bytes) /
                                                static_cast<double>(event.total))
                             : 0;
    std::string bar(static_cast<std::size_t>(std::clamp(filled, 0, width)), '=');
    if (static_cast<int>(bar.size()) < width) {
      bar += '>';
    }
    bar.resize(static_cast<std::size_t>(width), ' ');
    return "Pushing [" + bar + "] " + amounts + rate;
  }

  void set_line(const std::string& id, const std::string& text) {
    if (m_lines.find(id) == m_lines.end()) {
      m_order.push_back(id);
    }
    m_lines[id] = escape_for_terminal(text);
  }

  // Moves up over the lines drawn last time and draws them all again. Each line is cut to one
  // column less than the terminal's width, so that none wraps: a wrapped line would take two
  // rows, and moving up by the count of lines would leave a copy of the top ones behind.
  void redraw() {
    if (m_drawn > 0) {
      m_out << "\033[" << m_drawn << "A";
    }
    const std::size_t columns = terminal_columns() - 1;
    for (const auto& id : m_order) {
      std::string line = id + ": " + m_lines[id];
      if (line.size() > columns) {
        line.resize(columns);
      }
      m_out << "\r\033[K" << line << '\n';
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
  std::map<std::string, std::pair<std::uint64_t, std::chrono::steady_clock::time_point>>
      m_json_progress; // bytes and time of the last blob_progress printed, per blob
  std::size_t m_drawn = 0;
  std::chrono::steady_clock::time_point m_last_draw{};
  std::map<std::string, std::string> m_shown_as; // digest -> the diff_id shown for it
};

// SIGINT and SIGTERM during a push: blocked in every thread (they inherit the mask, so this
// must come before any thread starts) and taken by one thread with sigwait, which interrupts
// the HTTP layer: transfers end, the jobs cancel their upload sessions (each within
// registry::k_cancel_budget) and the push returns an `interrupted` error, exit 128 + N. Should
// that take longer than k_hard_deadline, or a second signal come, the process ends at once with
// the same code.
class InterruptWatch {
public:
  InterruptWatch() {
    sigemptyset(&m_set);
    sigaddset(&m_set, SIGINT);
    sigaddset(&m_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &m_set, nullptr);
    m_thread = std::thread([this] { watch(); });
  }
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;
  ~InterruptWatch() {
    {
      std::lock_guard lock(m_mutex);
      m_done = true;
    }
    m_finished.notify_all();
    pthread_kill(m_thread.native_handle(), SIGTERM); // wakes sigwait; m_done says to return
    m_thread.join();
  }

private:
  static constexpr std::chrono::seconds k_hard_deadline{5};

  void watch() {
    int signal_number = 0;
    if (sigwait(&m_set, &signal_number) != 0) {
      return;
    }
    {
      std::lock_guard lock(m_mutex);
      if (m_done) {
        return;
      }
    }
    http::interrupt(signal_number);
    // A second signal, or the deadline, ends the process: the push had its chance to cancel.
    std::thread second([this] {
      int again = 0;
      if (sigwait(&m_set, &again) == 0) {
        std::lock_guard lock(m_mutex);
        if (!m_done) {
          hard_exit();
        }
      }
    });
    second.detach();
    std::unique_lock lock(m_mutex);
    if (!m_finished.wait_for(lock, k_hard_deadline, [this] { return m_done; })) {
      hard_exit();
    }
  }

  [[noreturn]] static void hard_exit() {
    int number = http::interrupted_by();
    constexpr std::string_view k_message =
        "regauth: error: interrupted: upload sessions could not all be cancelled in time\n";
    (void)!::write(STDERR_FILENO, k_message.data(), k_message.size());
    std::_Exit(128 + number);
  }

  sigset_t m_set{};
  std::mutex m_mutex;
  std::condition_variable m_finished;
  bool m_done = false;
  std::thread m_thread;
};

// --creds USER[:PASSWORD] (with --password-stdin for USER alone): credentials for this push
// only. nullopt without --creds.
Result<std::optional<credentials::Credentials>> one_time_credentials(const PushOptions& options,
                                                                     Context& context) {
  if (!options.creds) {
    if (options.password_stdin) {
      return make_error(ErrorKind::usage, "--password-stdin needs --creds USER");
    }
    return std::optional<credentials::Credentials>();
  }
  credentials::Credentials given;
  auto colon = options.creds->find(':');
  given.username = options.creds->substr(0, colon);
  if (given.username.empty()) {
    return make_error(ErrorKind::usage, "--creds needs a username");
  }
  if (colon != std::string::npos) {
    if (options.password_stdin) {
      return make_error(ErrorKind::usage,
                        "--creds USER:PASSWORD and --password-stdin are mutually exclusive");
    }
    context.err << "WARNING! Using a password in --creds is insecure. Use --creds USER "
                   "--password-stdin.\n";
    given.password = options.creds->substr(colon + 1);
  } else if (options.password_stdin) {
    auto secret = read_secret_from_stdin();
    if (!secret) {
      return secret.error();
    }
    given.password = std::move(*secret);
  }
  if (given.password.empty()) {
    return make_error(ErrorKind::usage, "--creds needs a password: --creds USER --password-stdin");
  }
  return std::optional<credentials::Credentials>(std::move(given));
}

} // namespace

int run_push(const PushOptions& options, Context& context) {
  auto target = registry::parse_reference(options.reference);
  if (!target) {
    return report(context, target.error());
  }
  if (options.jobs < 0 || options.jobs > 32) {
    return report(context, make_error(ErrorKind::usage,
                                      "--jobs must be between 1 and 32 (or 0: by blob sizes)"));
  }
  // Uncompressed layers go out gzip-compressed unless told otherwise; with a @digest reference
  // nothing is rewritten unless asked, as skopeo keeps a manifest a digest names.
  auto compression = image::parse_compression(options.compression.empty()
                                                  ? (target->digest.empty() ? "gzip" : "none")
                                                  : options.compression);
  if (!compression) {
    return report(context, compression.error());
  }
  InterruptWatch interrupt_watch; // before any thread starts
  auto warm_up = warm_up_http(context.services);
  std::unique_ptr<image::ImageSource> source;
  // Layers the blob-info cache does not know are compressed as they are uploaded, after the
  // gate: nothing is compressed for a push that is refused.
  std::unique_ptr<image::LayerCompression> on_upload;
  std::vector<image::CompressedLayer> compressed;
  image::BlobInfoCache cache(options.check ? std::string() : image::default_blob_info_cache_path());
  if (!options.check) {
    auto opened = image::open_image_source(options.source);
    if (!opened) {
      return report(context, opened.error().with_context("reading " + options.source));
    }
    image::CompressionSettings settings;
    settings.compression = *compression;
    settings.level = image::default_level(*compression);
    auto wrapped = image::compress_layers(std::move(*opened), settings, cache, compressed);
    if (!wrapped) {
      return report(context, wrapped.error().with_context("reading " + options.source));
    }
    source = std::move(wrapped->source);
    on_upload = std::move(wrapped->on_upload);
  }
  auto key = context.lookup_key(*target);
  if (!key) {
    return report(context, key.error());
  }
  auto keychain = context.keychain();
  if (!keychain) {
    return report(context, keychain.error());
  }
  auto given = one_time_credentials(options, context);
  if (!given) {
    return report(context, given.error());
  }
  Result<std::optional<credentials::FoundCredentials>> found =
      std::optional<credentials::FoundCredentials>();
  if (*given) {
    credentials::FoundCredentials once;
    once.credentials = **given;
    once.source = "--creds";
    found = std::optional<credentials::FoundCredentials>(std::move(once));
  } else {
    found = keychain->get(*key);
  }
  if (!found) {
    return report(context, found.error());
  }
  warn_duplicate_keys(context);
  if (!*found) {
    // A helper named for this very registry that has nothing: stop before contacting it, so a
    // broken or unconfigured helper never turns into an anonymous attempt.
    auto choice = keychain->choice_for(*key);
    if (choice && choice->kind == credentials::StoreKind::helper &&
        choice->origin == credentials::StoreOrigin::cred_helpers) {
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
    for (const auto& warning : (*found)->warnings) {
      context.warn(warning);
    }
    credentials = (*found)->credentials;
    identity.source = (*found)->source;
    identity.username = credentials->username.empty() ? std::string(credentials::k_token_username)
                                                      : credentials->username;
    if ((*found)->from_identity && !options.quiet && options.format != "json") {
      // Short-lived credentials nobody typed: say whose they are.
      context.err << "Using " << (*found)->source << '\n';
    }
  }
  auto configured = context.transport_for(target->registry);
  if (!configured) {
    return report(context, configured.error());
  }
  const http::TransportOptions& transport = *configured;
  auth::AuthOptions auth_options = context.auth_options(transport, target->registry);
  if (*found && (*found)->from_identity) {
    // Short-lived credentials from the machine's identity: fetched again when they end or are
    // refused, so that a long push outlives them.
    auth_options.credentials_expire_at = (*found)->expires_at;
    auth_options.renew_credentials =
        [&keychain, key = *key]() -> Result<std::optional<auth::RenewedCredentials>> {
      auto renewed = keychain->get_from_identity(key);
      if (!renewed) {
        return renewed.error();
      }
      if (!*renewed) {
        return std::optional<auth::RenewedCredentials>();
      }
      return std::optional<auth::RenewedCredentials>(
          auth::RenewedCredentials{(*renewed)->credentials, (*renewed)->expires_at});
    };
  }
  // How the registry answered the ping of an earlier push from this machine: taken as this
  // push's ping (the gate asks again when the registry refuses what it led to).
  auth_options.remembered = remembered_challenge(cache, target->registry);
  auto session = registry::make_registry_session(
      [&context, transport] { return context.services.make_http_client(transport); },
      target->registry, credentials, auth_options);

  bool json = options.format == "json";
  ProgressView view(context.out, json, options.quiet,
                    !json && !options.quiet && ::isatty(STDOUT_FILENO) == 1);
  for (const auto& layer : compressed) {
    view.show_as(layer.compressed.digest, layer.uncompressed_digest);
  }
  push::PushPolicy policy;
  policy.jobs = options.jobs;
  policy.mount_from = options.mount_from;
  policy.upload.chunk_threshold =
      static_cast<std::uint64_t>(options.chunk_threshold_mib * 1024 * 1024);
  policy.upload.chunk_size = static_cast<std::uint64_t>(options.chunk_size_mib * 1024 * 1024);
  if (!auth_options.http_first) {
    policy.early_base = "https://" + target->registry;
  }
  // Not for --check: it sends nothing either way; nor when layers are compressed on upload: the
  // top manifest's digest is known only once they are.
  const image::Manifest* top =
      source && !options.check && !on_upload && !source->manifests().empty()
          ? &source->manifests().back()
          : nullptr;
  policy.lookup_beside_gate =
      top != nullptr && cache.knows_location(image::manifest_location(
                            target->registry, target->repository, top->digest));
  push::Pusher pusher(*session, *target, identity, policy,
                      [&view](const push::Event& event) { view.on_event(event); });

  if (json) {
    for (const auto& layer : compressed) {
      context.out << json_line({{"event", "compressed"},
                                {"diff_id", layer.uncompressed_digest},
                                {"digest", layer.compressed.digest},
                                {"size", layer.compressed.size},
                                {"detail", layer.compressed.media_type},
                                {"cached", layer.from_cache}})
                  << '\n';
    }
  }
  auto fail = [&](const Error& error) {
    if (json) {
      context.out << json_line({{"event", "error"},
                                {"kind", to_string(error.kind)},
                                {"message", error.message}})
                  << '\n';
    }
    std::string login_command =
        "regauth login" + (*key == config::k_docker_hub_key ? "" : " " + target->registry);
    Error shown = error;
    if (shown.hint.empty() && error.kind == ErrorKind::unauthorized) {
      shown.hint = login_command;
    } else if (shown.hint.empty() && error.kind == ErrorKind::denied) {
      shown.hint = "log in as a user with push rights to " + target->registry + "/" +
                   target->repository + ": " + login_command;
    }
    return report(context, shown);
  };

  std::string probe;
  if (source && !source->blobs().empty()) {
    probe = source->blobs().front().digest;
  }
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
  auto result = pusher.push(*source, on_upload.get());
  view.finish();
  if (result) {
    remember_challenge(cache, target->registry, session->authenticator());
    // Where this manifest now is: a re-push from this machine looks its tag up beside the gate.
    auto location = image::manifest_location(target->registry, target->repository, result->digest);
    if (!cache.knows_location(location)) {
      cache.record_location(location);
    }
  }
  cache.save(); // what the layers compressed to, even when a later step failed
  if (!result) {
    return fail(result.error());
  }
  if (!json) {
    context.out << escape_for_terminal(result->reference)
                << ": digest: " << escape_for_terminal(result->digest) << " size: " << result->size
                << '\n';
  }
  if (options.digest_file) {
    // As skopeo's --digestfile: the digest alone, no newline.
    if (auto saved = config::save_private_file(*options.digest_file, result->digest); !saved) {
      return report(context, saved.error());
    }
  }
  return 0;
}

} // namespace regauth::cli
