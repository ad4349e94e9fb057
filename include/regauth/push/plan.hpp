// The push plan: what to do with each blob (skip, mount, probe, upload) and in which order the
// manifests go (each after the blobs and child manifests it references), made from the image
// source's descriptors and what the gate learned. Pure: no network, no files; the Pusher runs it.
#pragma once

#include "regauth/image/image_source.hpp"
#include "regauth/registry/registry_client.hpp"
#include "regauth/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace regauth::push {

// How a push goes, from the command line: connections, a repository to mount from, uploads.
struct PushPolicy {
  int jobs = 0;                          // 0: chosen by choose_jobs
  std::optional<std::string> mount_from; // repository on the same registry
  registry::UploadPolicy upload;
  // "https://host[:port]": where the manifest lookup may open its connection while the ping
  // runs (nullopt: it waits for the ping, e.g. when plain HTTP is tried first).
  std::optional<std::string> early_base;
  // Look the target reference up beside the gate (on a connection of its own) rather than after
  // it, and only when the gate's probe found its blob: set when this machine pushed the same
  // manifest to the same repository before (image::BlobInfoCache::knows_location), so that a
  // re-push costs no round trip more than the gate and a new image no request for the lookup.
  bool lookup_beside_gate = false;
};

// What the gate learned before the plan is made.
struct GateAnswers {
  std::string probe_digest;    // the blob the gate's session request asked about ("": none)
  bool probe_present = false;  // 201: the blob is in the repository (mounted from --mount-from)
  std::string existing_digest; // the manifest the target reference names ("": none or unknown)
};

enum class BlobAction {
  skip,              // in the repository already (the gate's probe found it): nothing is sent
  mounted,           // the gate's probe mounted it from --mount-from: nothing more is sent
  upload_on_gate,    // the gate's 202 opened its upload session: upload through it
  mount_probe,       // POST ?mount=&from=<this repository>: 201 there, 202 upload through it
  head_upload,       // HEAD; absent: upload
  head_mount_upload, // HEAD; absent: POST ?mount=&from=<--mount-from>, 202: upload through it
  // An uncompressed layer that goes out compressed as it is uploaded (image::LayerCompression):
  // the compressed digest the blob-info cache knows, if any, is asked about with a mount from the
  // repository itself; otherwise (or on 202) the compressed bytes stream through a chunked PATCH
  // and the PUT names the digest they hash to.
  compress_upload,
};

struct BlobStep {
  image::BlobDescriptor blob;
  BlobAction action = BlobAction::head_upload;
};

struct ManifestStep {
  std::size_t manifest = 0;          // index into the source's manifests
  std::string reference;             // the tag (or digest) for the top one, else its digest
  std::vector<std::size_t> blobs;    // indices into PushPlan::blobs that must be in first
  std::vector<std::size_t> children; // indices into PushPlan::manifests that must be put first
};

struct PushPlan {
  // Every blob, each manifest's blobs together, in the order of the manifests, so that the
  // first child's manifest can go while the blobs of the next are still on their way.
  std::vector<BlobStep> blobs;
  // Children before the index that lists them; the last is put under the target reference.
  // Empty when nothing is to be sent.
  std::vector<ManifestStep> manifests;
  std::size_t jobs = 1; // connections for the steps that send something; 0 when none does
  // The target reference names the top manifest already: every blob is skipped, no manifest
  // is put.
  bool nothing_to_send = false;
};

// Blobs up to this size are asked about with a mount from the repository itself rather than a
// HEAD: one request when the blob is there (201), and when it is not (202) the answer is the
// upload session, so a new blob costs two requests instead of three. A registry that never
// mounts answers 202 even for a blob it has; the blob is then sent again, which is cheap at this
// size. Larger blobs keep the HEAD (a round trip is cheap beside their bytes) unless the gate's
// probe has shown that the registry mounts.
inline constexpr std::uint64_t k_mount_probe_limit = 8ULL << 20;

// How many connections upload `blobs` at once: `requested` when it is positive (at most one per
// blob), else one per small blob and a few for large ones, within a bound. Pure.
std::size_t choose_jobs(const std::vector<image::BlobDescriptor>& blobs, int requested);

// The manifests and blobs that the manifest `bytes` references, as digests: an index's
// `manifests`, an image manifest's `config` and `layers`. Fails (protocol) when `bytes` is not a
// JSON object.
struct References {
  std::vector<std::string> manifests;
  std::vector<std::string> blobs;
};
Result<References> parse_references(std::string_view bytes);

// The plan for pushing `manifests` (children before the index; the last one under
// `top_reference`) and `blobs`, given the gate's answers. A reference to a blob or manifest that
// the source does not hold (a foreign layer) is no dependency: the registry judges it. Fails
// (protocol) when there is no manifest or a manifest is not JSON.
// The blobs in `compressed_on_upload` (digests) are compress_upload steps.
Result<PushPlan> plan_push(const std::vector<image::BlobDescriptor>& blobs,
                           const std::vector<image::Manifest>& manifests,
                           const std::string& top_reference, const GateAnswers& gate,
                           const PushPolicy& policy,
                           const std::set<std::string>& compressed_on_upload = {});

} // namespace regauth::push
