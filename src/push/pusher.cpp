#include "regauth/push/pusher.hpp"

#include "regauth/image/sha256.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <future>
#include <thread>

namespace regauth::push {
namespace {

constexpr const char* k_unauthorized = "unauthorized: authentication required";
constexpr const char* k_denied = "denied: requested access to the resource is denied";

// Blobs up to this size are asked about with a mount from the repository itself rather than a
// HEAD: the same one request when the blob is there (201), and when it is not (202) the answer
// is the upload session, so a new blob costs two requests instead of three. A registry that
// never mounts answers 202 even for a blob it has; the blob is then sent again, which is cheap
// at this size. Larger blobs keep the HEAD (a round trip is cheap beside their bytes) until the
// registry has shown that it mounts.
constexpr std::uint64_t k_mount_probe_limit = 8ULL << 20;
// Blobs at or below this size count as small when choosing the number of connections.
constexpr std::uint64_t k_small_blob = 16ULL << 20;
constexpr std::size_t k_max_auto_jobs = 16;
constexpr std::size_t k_large_blob_jobs = 4;

} // namespace

std::size_t choose_jobs(const std::vector<image::BlobDescriptor>& blobs, int requested) {
  if (requested > 0) {
    return std::clamp<std::size_t>(static_cast<std::size_t>(requested), 1,
                                   std::max<std::size_t>(blobs.size(), 1));
  }
  // Small blobs are bound by round trips: one connection each, up to a bound. Large ones are
  // bound by bandwidth and by the registry's disk, which a few connections already fill.
  std::size_t small = 0;
  std::size_t large = 0;
  for (const auto& blob : blobs) {
    ++(blob.size <= k_small_blob ? small : large);
  }
  return std::clamp<std::size_t>(small + std::min(large, k_large_blob_jobs), 1, k_max_auto_jobs);
}

Pusher::Pusher(registry::RegistrySession& session, registry::Reference target, Identity identity,
               PushOptions options, EventSink events)
    : m_session(session), m_target(std::move(target)), m_identity(std::move(identity)),
      m_options(std::move(options)), m_events(std::move(events)) {}

std::vector<auth::Scope> Pusher::scopes() const {
  std::vector<auth::Scope> scopes = {auth::repository_scope(m_target.repository, {"pull", "push"})};
  if (m_options.mount_from && *m_options.mount_from != m_target.repository) {
    scopes.push_back(auth::repository_scope(*m_options.mount_from, {"pull"}));
  }
  return scopes;
}

Error Pusher::gate_refusal(const registry::Refusal& refusal, const Error& error) const {
  std::string who = m_identity.username.empty()
                        ? "no credentials for " + m_target.registry
                        : "credentials of " + m_identity.username + " from " + m_identity.source;
  std::string said = refusal.server_words;
  if (!refusal.challenge_error.empty()) {
    said += (said.empty() ? "" : " ") + std::string("(") + refusal.challenge_error + ")";
  }
  std::string context = " (" + (said.empty() ? std::string() : "registry said: " + said + "; ") +
                        who + "; nothing was sent)";
  if (refusal.status == 403 || (refusal.status == 401 && !m_identity.username.empty() &&
                                refusal.challenge_error == "insufficient_scope")) {
    return make_error(ErrorKind::denied, k_denied + context);
  }
  if (refusal.status == 401) {
    return make_error(ErrorKind::unauthorized, k_unauthorized + context);
  }
  return error;
}

Result<void> Pusher::run_gate(const std::string& probe_digest, const image::Manifest* top) {
  // Steps: ping, a token for pull+push (anonymous without credentials), one upload session.
  // Token servers grant any subset they like, so only the registry's answer proves push rights.
  //
  // Meanwhile, with `top`, a lookup of the target reference on a connection of its own (pull
  // rights suffice; it sends nothing of the image). Its thread sets up while the token is
  // fetched and sends the moment the token is there, so that it costs no wall time; it sends
  // nothing when the token step fails. It gets the Authorization value through the promise and
  // never calls the Authenticator, whose client the gate's POST is using meanwhile. Declared
  // before `authorized`, so that a return before set_value breaks the promise (the thread then
  // ends) before the thread is joined.
  m_existing_digest.clear();
  std::jthread lookup;
  std::promise<std::optional<std::string>> authorized;
  if (top != nullptr) {
    lookup = std::jthread([this, top, ready = authorized.get_future()]() mutable {
      try {
        auto stack = m_session.connect(scopes());
        registry::RegistryClient client(*stack, m_target.repository, m_options.upload);
        auto authorization = ready.get(); // throws when the token step failed
        auto found =
            client.head_manifest(m_target.manifest_reference(), top->media_type, authorization);
        if (found && *found) {
          m_existing_digest = **found;
        }
      } catch (const std::exception&) {
        // no token (a broken promise), or no memory: the push simply goes the long way
      }
    });
  }
  {
    auto authorization = m_session.authenticator().authorization(scopes());
    if (!authorization) {
      const Error& error = authorization.error();
      if (error.kind == ErrorKind::unauthorized) {
        std::string who = m_identity.username.empty() ? "no credentials for " + m_target.registry
                                                      : "credentials of " + m_identity.username +
                                                            " from " + m_identity.source;
        std::string words =
            error.message == k_unauthorized ? "" : "token server said: " + error.message + "; ";
        return make_error(ErrorKind::unauthorized,
                          std::string(k_unauthorized) + " (" + words + who + "; nothing was sent)");
      }
      return error;
    }
    authorized.set_value(*authorization);
  }
  auto stack = m_session.connect_shared(scopes());
  registry::RegistryClient client(*stack, m_target.repository, m_options.upload);
  registry::Refusal refusal;
  auto opened =
      client.open_gate(refusal, probe_digest, m_options.mount_from.value_or(m_target.repository));
  if (!opened) {
    if (refusal.status == 401 || refusal.status == 403) {
      return gate_refusal(refusal, opened.error());
    }
    return opened.error();
  }
  m_probe_digest = probe_digest;
  m_probe_present = opened->mounted;
  m_gate_session = std::move(opened->session);
  m_gate_passed = true;
  if (m_events) {
    m_events(Event{EventKind::gate, "", 0, 0, m_target.repository});
  }
  return {};
}

Result<void> Pusher::cancel_gate_session() {
  if (!m_gate_session) {
    return {};
  }
  auto stack = m_session.connect_shared(scopes());
  registry::RegistryClient client(*stack, m_target.repository, m_options.upload);
  auto cancelled = client.cancel_upload(*m_gate_session);
  m_gate_session.reset();
  return cancelled;
}

Error Pusher::interruption(std::size_t cancelled, std::size_t uncancelled) const {
  std::string message = "push to " + m_target.registry + "/" + m_target.repository +
                        " interrupted by " +
                        (http::interrupted_by() == SIGTERM ? "SIGTERM" : "SIGINT") + ": ";
  if (cancelled + uncancelled == 0) {
    message += "no upload session was open";
  } else {
    message +=
        std::to_string(cancelled) + " upload session" + (cancelled == 1 ? "" : "s") + " cancelled";
    if (uncancelled > 0) {
      message += ", " + std::to_string(uncancelled) +
                 " refused by the registry (it keeps them until it purges stale uploads)";
    }
  }
  return make_error(ErrorKind::interrupted, message + "; the tag was not pushed");
}

Result<PushResult> Pusher::push(const image::ImageSource& source) {
  const auto& manifests = source.manifests();
  if (manifests.empty()) {
    return make_error(ErrorKind::protocol, source.description() + ": no manifest to push");
  }
  if (!m_target.digest.empty() && m_target.digest != manifests.back().digest) {
    return make_error(ErrorKind::usage, "the image's digest is " + manifests.back().digest +
                                            ", not " + m_target.digest + " as the reference says");
  }
  const auto& blobs = source.blobs();
  if (!m_gate_passed) {
    if (auto gate =
            run_gate(blobs.empty() ? std::string() : blobs.front().digest, &manifests.back());
        !gate) {
      return gate.error();
    }
  }
  PushResult result;
  result.reference = m_target.manifest_reference();
  result.digest = manifests.back().digest;
  result.size = manifests.back().bytes.size();
  // The reference names this very manifest already (and the gate's probe found its blob):
  // every blob and child manifest is in the repository, so nothing is sent, as crane does.
  if (m_existing_digest == manifests.back().digest && (m_probe_digest.empty() || m_probe_present)) {
    for (const auto& blob : blobs) {
      ++result.skipped;
      if (m_events) {
        m_events({EventKind::blob_skipped, blob.digest, blob.size, blob.size, blob.media_type});
      }
    }
    if (m_events) {
      m_events(
          {EventKind::manifest_present, result.digest, result.size, result.size, result.reference});
      m_events({EventKind::done, result.digest, result.size, result.size, result.reference});
    }
    return result;
  }
  std::atomic<std::size_t> next{0};
  std::mutex state_mutex;
  std::optional<Error> failure;
  std::atomic<bool> stop{false};
  // The registry answered a mount from this repository with 201: it mounts, so its 202 means
  // "not here" for a blob of any size.
  std::atomic<bool> registry_mounts{m_probe_present};
  auto emit = [&](Event event) {
    if (m_events) {
      std::lock_guard lock(state_mutex);
      m_events(event);
    }
  };
  auto take_gate_session = [&]() -> std::optional<registry::UploadSession> {
    std::lock_guard lock(state_mutex);
    return std::exchange(m_gate_session, std::nullopt);
  };
  std::size_t cancelled = 0;
  std::size_t uncancelled = 0;
  auto record_cancels = [&](const registry::RegistryClient& client) {
    std::lock_guard lock(state_mutex);
    cancelled += client.cancelled_sessions();
    uncancelled += client.uncancelled_sessions();
  };
  auto worker = [&] {
    auto stack = m_session.connect(scopes());
    registry::RegistryClient client(*stack, m_target.repository, m_options.upload);
    while (!stop) {
      std::size_t index = next++;
      if (index >= blobs.size()) {
        return;
      }
      const auto& blob = blobs[index];
      auto fail = [&](const Error& error) {
        std::lock_guard lock(state_mutex);
        if (!failure) {
          failure = error;
        }
        stop = true;
      };
      // The gate already asked about the probe blob: present (201), or its session is open.
      bool probed = !m_probe_digest.empty() && blob.digest == m_probe_digest;
      std::optional<registry::UploadSession> session;
      Result<std::optional<std::uint64_t>> present = std::optional<std::uint64_t>();
      bool trust_mount = blob.size <= k_mount_probe_limit || registry_mounts.load();
      if (probed && m_probe_present) {
        present = std::optional<std::uint64_t>(blob.size);
      } else if (probed && trust_mount) {
        session = take_gate_session(); // the gate's 202 is this blob's upload session
      } else if (probed) {
        present = client.head_blob(blob.digest); // the gate's 202 may only mean "no mounts"
      } else if (!m_options.mount_from && trust_mount) {
        auto answer = client.mount_blob(blob.digest, m_target.repository);
        if (!answer) {
          fail(answer.error());
          return;
        }
        if (answer->mounted) {
          registry_mounts = true;
          present = std::optional<std::uint64_t>(blob.size);
        } else {
          session = std::move(answer->session); // nullopt when the registry refused the mount
        }
      } else {
        present = client.head_blob(blob.digest);
      }
      if (!present) {
        fail(present.error());
        return;
      }
      if (*present && probed && m_probe_present && m_options.mount_from) {
        {
          std::lock_guard lock(state_mutex);
          ++result.mounted; // the gate's probe mounted it from --mount-from
        }
        emit({EventKind::blob_mounted, blob.digest, blob.size, blob.size, *m_options.mount_from});
        continue;
      }
      if (*present) {
        {
          std::lock_guard lock(state_mutex);
          ++result.skipped;
        }
        emit({EventKind::blob_skipped, blob.digest, blob.size, blob.size, blob.media_type});
        continue;
      }
      if (m_options.mount_from && !session) {
        auto mounted = client.mount_blob(blob.digest, *m_options.mount_from);
        if (mounted && mounted->mounted) {
          {
            std::lock_guard lock(state_mutex);
            ++result.mounted;
          }
          emit({EventKind::blob_mounted, blob.digest, blob.size, blob.size, *m_options.mount_from});
          continue;
        }
        if (mounted && mounted->session) {
          session = std::move(mounted->session);
        }
      }
      if (!session) {
        session = take_gate_session(); // the first upload that needs one takes the gate's
      }
      if (!session) {
        auto started = client.start_upload();
        if (!started) {
          fail(started.error());
          return;
        }
        session = std::move(*started);
      }
      emit({EventKind::blob_started, blob.digest, 0, blob.size, blob.media_type});
      // Every byte is hashed on its way out: bytes that do not match the digest never
      // complete a request (the read that would hand over the last of them fails).
      auto opener = [&source,
                     &blob]() -> Result<std::function<Result<std::size_t>(char*, std::size_t)>> {
        auto reader = image::open_verified_blob(source, blob);
        if (!reader) {
          return reader.error();
        }
        std::shared_ptr<image::BlobReader> shared = std::move(*reader);
        return std::function<Result<std::size_t>(char*, std::size_t)>(
            [shared](char* buffer, std::size_t size) { return shared->read(buffer, size); });
      };
      auto progress = [&](std::uint64_t sent) {
        emit({EventKind::blob_progress, blob.digest, sent, blob.size, ""});
      };
      auto uploaded =
          client.upload_blob(std::move(*session), blob.digest, blob.size, opener, progress);
      if (!uploaded) {
        fail(uploaded.error());
        record_cancels(client);
        return;
      }
      {
        std::lock_guard lock(state_mutex);
        ++result.uploaded;
      }
      emit({EventKind::blob_uploaded, blob.digest, blob.size, blob.size, blob.media_type});
    }
  };
  std::size_t jobs = choose_jobs(blobs, m_options.jobs);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < jobs; ++i) {
    threads.emplace_back(worker);
  }
  for (auto& thread : threads) {
    thread.join();
  }
  if (failure) {
    // The gate's session, when no job took it, is cancelled as well.
    if (m_gate_session) {
      auto stack = m_session.connect_shared(scopes());
      registry::RegistryClient client(*stack, m_target.repository, m_options.upload);
      ++(client.cancel_upload(*m_gate_session) ? cancelled : uncancelled);
      m_gate_session.reset();
    }
    if (failure->kind == ErrorKind::interrupted || http::interrupted_by() != 0) {
      return interruption(cancelled, uncancelled);
    }
    return *failure;
  }
  // An unused gate session is left to expire: cancelling needs the delete action.
  m_gate_session.reset();
  auto stack = m_session.connect_shared(scopes());
  registry::RegistryClient client(*stack, m_target.repository, m_options.upload);
  for (std::size_t i = 0; i < manifests.size(); ++i) {
    const auto& manifest = manifests[i];
    bool top = i + 1 == manifests.size();
    std::string reference = top ? m_target.manifest_reference() : manifest.digest;
    // The manifest's bytes were checked when the source was read; they are hashed again here,
    // just before they leave, as the blobs are.
    std::string algorithm = manifest.digest.substr(0, manifest.digest.find(':'));
    if (auto actual = image::digest_of(algorithm, manifest.bytes); actual != manifest.digest) {
      return make_error(ErrorKind::protocol, "manifest " + manifest.digest + " (" +
                                                 source.description() +
                                                 ") does not match its digest: its bytes hash to " +
                                                 actual + "; it was not sent");
    }
    auto put = client.put_manifest(reference, manifest.media_type, manifest.bytes);
    if (!put) {
      if (put.error().kind == ErrorKind::interrupted) {
        return interruption(0, 0);
      }
      return put.error();
    }
    if (!put->digest.empty() && put->digest != manifest.digest) {
      return make_error(ErrorKind::protocol, "the registry stored manifest " + reference + " as " +
                                                 put->digest + ", but its digest is " +
                                                 manifest.digest);
    }
    emit({EventKind::manifest, manifest.digest, manifest.bytes.size(), manifest.bytes.size(),
          reference});
  }
  emit({EventKind::done, result.digest, result.size, result.size, result.reference});
  return result;
}

} // namespace regauth::push
