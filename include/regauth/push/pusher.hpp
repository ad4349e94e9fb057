// The push: the gate (credentials, ping, a pull+push token, one upload session) before any
// byte of a blob or manifest is sent, then the push plan (plan.hpp) run on parallel jobs: the
// blobs (HEAD, mount, upload), each manifest as soon as its blobs and children are in. Reports
// progress as events; prints nothing.
#pragma once

#include "regauth/auth/authenticator.hpp"
#include "regauth/http/transport.hpp"
#include "regauth/image/compressed_source.hpp"
#include "regauth/image/image_source.hpp"
#include "regauth/push/plan.hpp"
#include "regauth/registry/client_stack.hpp"
#include "regauth/registry/reference.hpp"
#include "regauth/registry/registry_client.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace regauth::push {

enum class EventKind {
  gate,             // the registry accepted an upload session: pushing is allowed
  blob_started,     // an upload begins
  blob_progress,    // bytes sent so far
  blob_skipped,     // the registry has it
  blob_mounted,     // mounted from another repository
  blob_uploaded,    // upload finished
  manifest,         // a manifest was put
  manifest_present, // the reference already names this manifest: nothing was sent
  done,             // the whole push finished
  // an uncompressed layer went out compressed (or the registry had its known compressed blob):
  // `digest` the compressed blob, `bytes` its size, `detail` its media type, `diff_id` the layer
  compressed,
};

struct Event {
  Event(EventKind kind_, std::string digest_ = "", std::uint64_t bytes_ = 0,
        std::uint64_t total_ = 0, std::string detail_ = "")
      : kind(kind_), digest(std::move(digest_)), bytes(bytes_), total(total_),
        detail(std::move(detail_)) {}

  EventKind kind = EventKind::gate;
  std::string digest;
  std::uint64_t bytes = 0; // sent so far (progress) or size
  std::uint64_t total = 0;
  std::string detail;  // media type, tag, ...
  std::string diff_id; // compressed: the uncompressed layer's digest
  bool cached = false; // compressed: the blob-info cache knew it, nothing was compressed
};

// Called from worker threads, one call at a time.
using EventSink = std::function<void(const Event&)>;

// Who is pushing, for messages: never the secret.
struct Identity {
  std::string username; // "" when anonymous
  std::string source;   // store description
};

struct PushResult {
  std::string reference; // tag or digest pushed
  std::string digest;    // of the last manifest
  std::uint64_t size = 0;
  std::size_t uploaded = 0, skipped = 0, mounted = 0;
};

class Pusher {
public:
  // Every connection comes from `session` (registry::make_registry_session).
  Pusher(registry::RegistrySession& session, registry::Reference target, Identity identity,
         PushPolicy policy, EventSink events);

  // Runs the gate. With `probe_digest` (the first blob to push), the gate's upload session
  // request also asks to mount that blob from the repository itself, which tells whether it is
  // there already, saving its HEAD. With `top` (the manifest to push), one HEAD asks which
  // manifest the target reference names: beside the gate on a second connection when the policy
  // says lookup_beside_gate, else after it and only when the probe found its blob. When it names
  // `top` (and the probe found its blob), push() has nothing to send. Fails (unauthorized) when not
  // authenticated, (denied) when authenticated but not allowed, with the registry's words, who was
  // used, and nothing sent.
  Result<void> run_gate(const std::string& probe_digest = "", const image::Manifest* top = nullptr);
  // --check: cancels the session the gate opened. Fails with the registry's words when it
  // refuses (distribution needs the delete action for that).
  Result<void> cancel_gate_session();
  // Plans the push from the source and the gate's answers and runs the plan: every blob, every
  // manifest after its blobs and children, the top one under the target reference; or nothing when
  // the gate found the target reference naming the top manifest already (its blobs and children are
  // then in the repository: the registry checked them when the manifest was put). Runs the gate
  // first when it has not run.
  // With `on_upload`, the layers it names are compressed as they are uploaded and each manifest
  // is rewritten with their compressed descriptors just before it is put.
  Result<PushResult> push(const image::ImageSource& source,
                          image::LayerCompression* on_upload = nullptr);

private:
  // One attempt at the gate; `answered` says whether it got as far as the registry's answer to
  // the gate's request (run_gate tries again when that refused a remembered challenge).
  Result<void> gate_once(const std::string& probe_digest, const image::Manifest* top,
                         bool& answered);
  // The gate's upload session request (see run_gate).
  Result<void> open_gate(const std::string& probe_digest);
  // Runs `plan` on its jobs, counting into `result`. Fails with the first step's error; every
  // upload session left open is cancelled (or counted as refused).
  Result<void> execute(const PushPlan& plan, const image::ImageSource& source,
                       image::LayerCompression* on_upload, PushResult& result);
  // The error for a push that SIGINT or SIGTERM ended, with what was cancelled.
  Error interruption(std::size_t cancelled, std::size_t uncancelled) const;
  Error gate_refusal(const registry::Refusal& refusal, const Error& error) const;
  std::vector<auth::Scope> scopes() const;

  registry::RegistrySession& m_session;
  registry::Reference m_target;
  Identity m_identity;
  PushPolicy m_policy;
  EventSink m_events;
  std::optional<registry::UploadSession> m_gate_session;
  std::string m_probe_digest;    // the blob the gate asked about
  bool m_probe_present = false;  // the gate found it in the repository (201)
  std::string m_existing_digest; // the manifest the target reference named during the gate
  bool m_gate_passed = false;
};

} // namespace regauth::push
