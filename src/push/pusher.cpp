#include "regauth/push/pusher.hpp"

#include "regauth/oci/digest.hpp"

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <thread>

namespace regauth::push {
namespace {

constexpr const char* k_unauthorized = "unauthorized: authentication required";
constexpr const char* k_denied = "denied: requested access to the resource is denied";

} // namespace

Pusher::Pusher(registry::RegistrySession& session, registry::Reference target, Identity identity,
               PushPolicy policy, EventSink events)
    : m_session(session), m_target(std::move(target)), m_identity(std::move(identity)),
      m_policy(std::move(policy)), m_events(std::move(events)) {}

std::vector<auth::Scope> Pusher::scopes() const {
  std::vector<auth::Scope> scopes = {auth::repository_scope(m_target.repository, {"pull", "push"})};
  if (m_policy.mount_from && *m_policy.mount_from != m_target.repository) {
    scopes.push_back(auth::repository_scope(*m_policy.mount_from, {"pull"}));
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
  auto& authenticator = m_session.authenticator();
  bool answered = false;
  auto passed = gate_once(probe_digest, top, answered);
  if (!passed && answered && authenticator.assumed() && passed.error().kind != ErrorKind::network &&
      passed.error().kind != ErrorKind::interrupted) {
    // The registry refused what the challenge remembered from an earlier command led to: it may
    // be out of date (a registry that moved to a token server). Ask it, and try once more. Not
    // after a network failure, which a ping would only meet again.
    authenticator.forget_assumed();
    passed = gate_once(probe_digest, top, answered);
  }
  if (passed) {
    authenticator.confirm();
  }
  return passed;
}

Result<void> Pusher::gate_once(const std::string& probe_digest, const image::Manifest* top,
                               bool& answered) {
  // Steps: ping, a token for pull+push (anonymous without credentials), one upload session.
  // Token servers grant any subset they like, so only the registry's answer proves push rights.
  //
  // With `top`, a lookup of the target reference (pull rights suffice; it sends nothing of the
  // image) tells whether it names `top` already. When the policy expects that (this machine
  // pushed `top` there before), the lookup runs beside the gate on a connection of its own, in
  // two threads:
  // - `warm` opens that connection at once with a GET /v2/ (as the ping does, no credentials;
  //   its answer is not used), so that connecting and the TLS handshake overlap the ping and the
  //   token; not when the Authorization value is known without a request (a remembered
  //   challenge): the HEAD then opens the connection itself;
  // - `lookup` starts once the Authorization value is known and gets it by copy, waits for
  //   `warm`, and sends the HEAD on the open connection, beside the gate's POST. It never calls
  //   the Authenticator, whose client the gate is using meanwhile.
  // Both are joined before the gate's answer is used. Otherwise the lookup is sent only when the
  // gate's probe found its blob (an image that is new to the repository costs no request for
  // it), after the gate, on the gate's connection. A lookup that fails only means that the push
  // goes the long way.
  m_existing_digest.clear();
  const bool beside = top != nullptr && m_policy.lookup_beside_gate;
  const bool at_once = m_session.authenticator().authorizes_at_once(scopes());
  std::unique_ptr<registry::ClientStack> lookup_stack;
  std::jthread warm;
  if (beside) {
    warm = std::jthread([this, &lookup_stack, at_once] {
      lookup_stack = m_session.connect(scopes());
      if (m_policy.early_base && !at_once) {
        http::Request ping;
        ping.url = *m_policy.early_base + "/v2/";
        ping.timeout = registry::k_lookup_timeout;
        ping.follow_redirects = false;
        (void)lookup_stack->transport().send(ping);
      }
    });
  }
  std::optional<std::string> authorization;
  {
    auto authorized = m_session.authenticator().authorization(scopes());
    if (!authorized) {
      const Error& error = authorized.error();
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
    authorization = std::move(*authorized);
  }
  std::string existing;
  std::jthread lookup;
  if (beside) {
    lookup = std::jthread([this, &existing, &lookup_stack, warm = std::move(warm), authorization,
                           reference = m_target.manifest_reference(),
                           media_type = top->media_type]() mutable {
      warm.join();
      registry::RegistryClient client(*lookup_stack, m_target.repository, m_policy.upload);
      auto found = client.head_manifest(reference, media_type, authorization);
      if (found && *found) {
        existing = **found;
      }
    });
  }
  answered = true; // what fails from here on is the registry's answer to the gate
  auto passed = open_gate(probe_digest);
  if (lookup.joinable()) {
    lookup.join();
  }
  if (passed && top != nullptr && !beside && m_probe_present) {
    auto stack = m_session.connect_shared(scopes());
    registry::RegistryClient client(*stack, m_target.repository, m_policy.upload);
    auto found =
        client.head_manifest(m_target.manifest_reference(), top->media_type, authorization);
    if (found && *found) {
      existing = **found;
    }
  }
  m_existing_digest = std::move(existing);
  return passed;
}

Result<void> Pusher::open_gate(const std::string& probe_digest) {
  auto stack = m_session.connect_shared(scopes());
  registry::RegistryClient client(*stack, m_target.repository, m_policy.upload);
  registry::Refusal refusal;
  auto opened =
      client.open_gate(refusal, probe_digest, m_policy.mount_from.value_or(m_target.repository));
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
  registry::RegistryClient client(*stack, m_target.repository, m_policy.upload);
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

Result<PushResult> Pusher::push(const image::ImageSource& source,
                                image::LayerCompression* on_upload) {
  const auto& manifests = source.manifests();
  if (manifests.empty()) {
    return make_error(ErrorKind::protocol, source.description() + ": no manifest to push");
  }
  if (!m_target.digest.empty() && on_upload == nullptr &&
      m_target.digest != manifests.back().digest) {
    return make_error(ErrorKind::usage, "the image's digest is " + manifests.back().digest +
                                            ", not " + m_target.digest + " as the reference says");
  }
  const auto& blobs = source.blobs();
  std::set<std::string> compressed_on_upload;
  if (on_upload != nullptr) {
    for (auto& digest : on_upload->digests()) {
      compressed_on_upload.insert(std::move(digest));
    }
  }
  if (!m_gate_passed) {
    // The top manifest's digest is only known up front when no layer is compressed on upload.
    if (auto gate = run_gate(blobs.empty() ? std::string() : blobs.front().digest,
                             on_upload == nullptr ? &manifests.back() : nullptr);
        !gate) {
      return gate.error();
    }
  }
  GateAnswers answers{m_probe_digest, m_probe_present, m_existing_digest};
  auto plan = plan_push(blobs, manifests, m_target.manifest_reference(), answers, m_policy,
                        compressed_on_upload);
  if (!plan) {
    return plan.error().with_context(source.description());
  }
  PushResult result;
  result.reference = m_target.manifest_reference();
  result.digest = manifests.back().digest;
  result.size = manifests.back().bytes.size();
  if (auto executed = execute(*plan, source, on_upload, result); !executed) {
    return executed.error();
  }
  return result;
}

// Runs the plan's steps on plan.jobs connections: each job takes the next ready step, a
// manifest before any blob, and a manifest is ready once its blobs and children are in.
Result<void> Pusher::execute(const PushPlan& plan, const image::ImageSource& source,
                             image::LayerCompression* on_upload, PushResult& result) {
  struct Step {
    bool manifest = false;
    std::size_t index = 0;
  };
  std::mutex mutex; // guards everything below, m_gate_session and `result`
  std::condition_variable changed;
  std::deque<Step> ready;
  std::vector<std::size_t> waiting(plan.manifests.size()); // blobs and children not yet in
  std::vector<std::vector<std::size_t>> parents_of_blob(plan.blobs.size());
  std::vector<std::vector<std::size_t>> parents_of_manifest(plan.manifests.size());
  std::size_t left = plan.manifests.size(); // steps not yet done
  std::optional<Error> failure;
  std::size_t cancelled = 0;
  std::size_t uncancelled = 0;
  std::mutex events_mutex;
  auto emit = [&](Event event) {
    if (m_events) {
      std::lock_guard lock(events_mutex);
      m_events(event);
    }
  };
  for (std::size_t m = 0; m < plan.manifests.size(); ++m) {
    const auto& step = plan.manifests[m];
    waiting[m] = step.blobs.size() + step.children.size();
    for (std::size_t blob : step.blobs) {
      parents_of_blob[blob].push_back(m);
    }
    for (std::size_t child : step.children) {
      parents_of_manifest[child].push_back(m);
    }
  }
  // Called with `mutex` held when a step is done: its parents may become ready.
  auto complete = [&](const std::vector<std::size_t>& parents) {
    for (std::size_t parent : parents) {
      if (--waiting[parent] == 0) {
        ready.push_front({true, parent});
      }
    }
    changed.notify_all();
  };
  for (std::size_t b = 0; b < plan.blobs.size(); ++b) {
    const auto& step = plan.blobs[b];
    if (step.action == BlobAction::skip || step.action == BlobAction::mounted) {
      bool mounted = step.action == BlobAction::mounted;
      ++(mounted ? result.mounted : result.skipped);
      const auto& blob = step.blob;
      emit({mounted ? EventKind::blob_mounted : EventKind::blob_skipped, blob.digest, blob.size,
            blob.size, mounted ? *m_policy.mount_from : blob.media_type});
      complete(parents_of_blob[b]);
    } else {
      ready.push_back({false, b});
      ++left;
    }
  }
  if (plan.nothing_to_send) {
    emit({EventKind::manifest_present, result.digest, result.size, result.size, result.reference});
    emit({EventKind::done, result.digest, result.size, result.size, result.reference});
    return {};
  }
  auto take_gate_session = [&]() -> std::optional<registry::UploadSession> {
    std::lock_guard lock(mutex);
    return std::exchange(m_gate_session, std::nullopt);
  };

  // `session`, or else the gate's (the first upload that needs one takes it), or else a new one.
  auto ensure_session = [&](registry::RegistryClient& client,
                            std::optional<registry::UploadSession>& session) -> Result<void> {
    if (!session) {
      session = take_gate_session();
    }
    if (!session) {
      auto started = client.start_upload();
      if (!started) {
        return started.error();
      }
      session = std::move(*started);
    }
    return {};
  };
  // Opens a fresh reader each time the upload asks for the bytes from the start.
  auto opener_of =
      [](std::function<Result<std::unique_ptr<image::BlobReader>>()> open) -> registry::BlobOpener {
    return [open = std::move(
                open)]() -> Result<std::function<Result<std::size_t>(char*, std::size_t)>> {
      auto reader = open();
      if (!reader) {
        return reader.error();
      }
      std::shared_ptr<image::BlobReader> shared = std::move(*reader);
      return std::function<Result<std::size_t>(char*, std::size_t)>(
          [shared](char* buffer, std::size_t size) { return shared->read(buffer, size); });
    };
  };

  // A layer compressed as it goes: Ok(kind of the event that ends it) or the error.
  auto compress_blob = [&](registry::RegistryClient& client,
                           const image::BlobDescriptor& blob) -> Result<EventKind> {
    const auto* layer = on_upload != nullptr ? on_upload->find(blob.digest) : nullptr;
    if (layer == nullptr) {
      return make_error(ErrorKind::internal, "no compression for layer " + blob.digest);
    }
    auto report = [&](const image::BlobDescriptor& compressed, bool cached) {
      Event event{EventKind::compressed, compressed.digest, compressed.size, blob.size,
                  compressed.media_type};
      event.diff_id = blob.digest;
      event.cached = cached;
      emit(event);
    };
    std::optional<registry::UploadSession> session;
    if (layer->known) {
      // What the blob-info cache says it compresses to may be in the repository already.
      auto answer = client.mount_blob(layer->known->digest, m_target.repository);
      if (!answer) {
        return answer.error();
      }
      if (answer->mounted) {
        report(on_upload->finished(*layer, *layer->known, true), true);
        return EventKind::blob_skipped;
      }
      session = std::move(answer->session);
    }
    if (auto ready = ensure_session(client, session); !ready) {
      return ready.error();
    }
    emit({EventKind::blob_started, blob.digest, 0, blob.size, layer->media_type});
    auto opener = opener_of([&] {
      return on_upload->open(*layer, [&](std::uint64_t consumed) {
        emit({EventKind::blob_progress, blob.digest, consumed, blob.size, ""});
      });
    });
    auto sent = client.upload_streamed(std::move(*session),
                                       "layer " + blob.digest + " compressed with " +
                                           std::string(on_upload->algorithm()),
                                       opener, {});
    if (!sent) {
      return sent.error();
    }
    report(on_upload->finished(*layer, image::CompressedBlob{sent->digest, sent->size}, false),
           false);
    return EventKind::blob_uploaded;
  };

  // One blob: Ok(kind of the event that ends it) or the error that ends the push.
  auto push_blob = [&](registry::RegistryClient& client,
                       const BlobStep& step) -> Result<EventKind> {
    const auto& blob = step.blob;
    if (step.action == BlobAction::compress_upload) {
      return compress_blob(client, blob);
    }
    std::optional<registry::UploadSession> session;
    if (step.action == BlobAction::upload_on_gate) {
      session = take_gate_session(); // the gate's 202 is this blob's upload session
    } else if (step.action == BlobAction::mount_probe) {
      auto answer = client.mount_blob(blob.digest, m_target.repository);
      if (!answer) {
        return answer.error();
      }
      if (answer->mounted) {
        return EventKind::blob_skipped;
      }
      session = std::move(answer->session); // nullopt when the registry refused the mount
    } else {
      auto present = client.head_blob(blob.digest);
      if (!present) {
        return present.error();
      }
      if (*present) {
        return EventKind::blob_skipped;
      }
      if (step.action == BlobAction::head_mount_upload) {
        auto mounted = client.mount_blob(blob.digest, *m_policy.mount_from);
        if (mounted && mounted->mounted) {
          return EventKind::blob_mounted;
        }
        if (mounted && mounted->session) {
          session = std::move(mounted->session);
        }
      }
    }
    if (auto ready = ensure_session(client, session); !ready) {
      return ready.error();
    }
    emit({EventKind::blob_started, blob.digest, 0, blob.size, blob.media_type});
    // Every byte is hashed on its way out: bytes that do not match the digest never complete a
    // request (the read that would hand over the last of them fails).
    auto opener = opener_of([&source, &blob] { return image::open_verified_blob(source, blob); });
    auto progress = [&](std::uint64_t sent) {
      emit({EventKind::blob_progress, blob.digest, sent, blob.size, ""});
    };
    auto uploaded =
        client.upload_blob(std::move(*session), blob.digest, blob.size, opener, progress);
    if (!uploaded) {
      return uploaded.error();
    }
    return EventKind::blob_uploaded;
  };

  auto put_manifest = [&](registry::RegistryClient& client,
                          const ManifestStep& step) -> Result<void> {
    const auto& listed = source.manifests()[step.manifest];
    std::string reference = step.reference;
    std::optional<image::Manifest> finalized;
    if (on_upload != nullptr) {
      // Rewritten now that its layers and children are in, with their compressed descriptors.
      auto rewritten = on_upload->finalize(listed);
      if (!rewritten) {
        return rewritten.error().with_context(source.description());
      }
      bool top = &listed == &source.manifests().back();
      if (!top || m_target.digest.empty()) {
        reference = reference == listed.digest ? rewritten->digest : reference;
      } else if (rewritten->digest != m_target.digest) {
        return make_error(ErrorKind::usage, "the image's digest is " + rewritten->digest +
                                                " once compressed, not " + m_target.digest +
                                                " as the reference says (--compression none "
                                                "pushes the layers as they are)");
      }
      finalized = std::move(*rewritten);
    }
    const auto& manifest = finalized ? *finalized : listed;
    // The manifest's bytes were checked when the source was read; they are hashed again here,
    // just before they leave, as the blobs are.
    std::string algorithm = manifest.digest.substr(0, manifest.digest.find(':'));
    if (auto actual = oci::digest_of(algorithm, manifest.bytes); actual != manifest.digest) {
      return make_error(ErrorKind::protocol, "manifest " + manifest.digest + " (" +
                                                 source.description() +
                                                 ") does not match its digest: its bytes hash to " +
                                                 actual + "; it was not sent");
    }
    auto put = client.put_manifest(reference, manifest.media_type, manifest.bytes);
    if (!put) {
      return put.error();
    }
    if (!put->digest.empty() && put->digest != manifest.digest) {
      return make_error(ErrorKind::protocol, "the registry stored manifest " + reference + " as " +
                                                 put->digest + ", but its digest is " +
                                                 manifest.digest);
    }
    if (&listed == &source.manifests().back()) {
      std::lock_guard lock(mutex);
      result.digest = manifest.digest;
      result.size = manifest.bytes.size();
    }
    emit({EventKind::manifest, manifest.digest, manifest.bytes.size(), manifest.bytes.size(),
          reference});
    return {};
  };

  // The first job works on the gate's connection, warm by now; the others open their own.
  auto worker = [&](bool first) {
    auto stack = first ? m_session.connect_shared(scopes()) : m_session.connect(scopes());
    registry::RegistryClient client(*stack, m_target.repository, m_policy.upload);
    while (true) {
      Step step;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return failure || left == 0 || !ready.empty(); });
        if (failure || ready.empty()) {
          return;
        }
        step = ready.front();
        ready.pop_front();
      }
      Result<EventKind> done = EventKind::manifest;
      if (step.manifest) {
        if (auto put = put_manifest(client, plan.manifests[step.index]); !put) {
          done = put.error();
        }
      } else {
        done = push_blob(client, plan.blobs[step.index]);
      }
      if (done && !step.manifest) {
        const auto& blob = plan.blobs[step.index].blob;
        const auto* layer = on_upload != nullptr ? on_upload->find(blob.digest) : nullptr;
        emit({*done, blob.digest, blob.size, blob.size,
              *done == EventKind::blob_mounted ? *m_policy.mount_from
              : layer != nullptr               ? layer->media_type
                                               : blob.media_type});
      }
      std::lock_guard lock(mutex);
      if (!done) {
        if (!failure) {
          failure = done.error();
        }
        cancelled += client.cancelled_sessions();
        uncancelled += client.uncancelled_sessions();
        changed.notify_all();
        return;
      }
      --left;
      if (step.manifest) {
        complete(parents_of_manifest[step.index]);
      } else {
        ++(*done == EventKind::blob_uploaded  ? result.uploaded
           : *done == EventKind::blob_mounted ? result.mounted
                                              : result.skipped);
        complete(parents_of_blob[step.index]);
      }
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < std::max<std::size_t>(plan.jobs, 1); ++i) {
    threads.emplace_back(worker, i == 0);
  }
  for (auto& thread : threads) {
    thread.join();
  }
  if (failure) {
    // The gate's session, when no job took it, is cancelled as well.
    if (m_gate_session) {
      auto stack = m_session.connect_shared(scopes());
      registry::RegistryClient client(*stack, m_target.repository, m_policy.upload);
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
  emit({EventKind::done, result.digest, result.size, result.size, result.reference});
  return {};
}

} // namespace regauth::push
