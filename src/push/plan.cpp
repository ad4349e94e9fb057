#include "regauth/push/plan.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace regauth::push {
namespace {

using json = nlohmann::json;

// Blobs at or below this size count as small when choosing the number of connections.
constexpr std::uint64_t k_small_blob = 16ULL << 20;
constexpr std::size_t k_max_auto_jobs = 16;
constexpr std::size_t k_large_blob_jobs = 4;

void add_digest(const json& descriptor, std::vector<std::string>& to) {
  if (descriptor.is_object()) {
    auto digest = descriptor.find("digest");
    if (digest != descriptor.end() && digest->is_string()) {
      to.push_back(digest->get<std::string>());
    }
  }
}

BlobAction action_for(const image::BlobDescriptor& blob, const GateAnswers& gate,
                      const PushPolicy& policy) {
  bool probed = !gate.probe_digest.empty() && blob.digest == gate.probe_digest;
  // A 201 from the gate's probe shows that the registry mounts: its 202 then means "not here"
  // for a blob of any size.
  bool trust_mount = blob.size <= k_mount_probe_limit || gate.probe_present;
  if (probed && gate.probe_present) {
    return policy.mount_from ? BlobAction::mounted : BlobAction::skip;
  }
  if (probed && trust_mount) {
    return BlobAction::upload_on_gate;
  }
  if (policy.mount_from) {
    return BlobAction::head_mount_upload;
  }
  if (!probed && trust_mount) {
    return BlobAction::mount_probe;
  }
  // A large blob, or the gate's 202 for it may only mean that the registry does not mount.
  return BlobAction::head_upload;
}

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

Result<References> parse_references(std::string_view bytes) {
  json document = json::parse(bytes, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    return make_error(ErrorKind::protocol, "a manifest is not a JSON object");
  }
  References references;
  if (auto manifests = document.find("manifests");
      manifests != document.end() && manifests->is_array()) {
    for (const auto& child : *manifests) {
      add_digest(child, references.manifests);
    }
  }
  if (auto config = document.find("config"); config != document.end()) {
    add_digest(*config, references.blobs);
  }
  if (auto layers = document.find("layers"); layers != document.end() && layers->is_array()) {
    for (const auto& layer : *layers) {
      add_digest(layer, references.blobs);
    }
  }
  return references;
}

Result<PushPlan> plan_push(const std::vector<image::BlobDescriptor>& blobs,
                           const std::vector<image::Manifest>& manifests,
                           const std::string& top_reference, const GateAnswers& gate,
                           const PushPolicy& policy,
                           const std::set<std::string>& compressed_on_upload) {
  if (manifests.empty()) {
    return make_error(ErrorKind::protocol, "no manifest to push");
  }
  PushPlan plan;
  const auto& top = manifests.back();
  // The reference names this very manifest already (and the gate's probe found its blob):
  // every blob and child manifest is in the repository, as the registry checked them when the
  // manifest was put, so nothing is sent, as crane does.
  if (gate.existing_digest == top.digest && (gate.probe_digest.empty() || gate.probe_present)) {
    for (const auto& blob : blobs) {
      plan.blobs.push_back({blob, BlobAction::skip});
    }
    plan.jobs = 0;
    plan.nothing_to_send = true;
    return plan;
  }

  std::map<std::string, std::size_t> blob_index;    // digest -> index into `blobs`
  std::map<std::string, std::size_t> manifest_step; // digest -> index into plan.manifests
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    blob_index.emplace(blobs[i].digest, i);
  }
  std::vector<std::size_t> order; // indices into `blobs`, in the order the jobs take them
  std::vector<bool> placed(blobs.size(), false);
  std::vector<std::size_t> step_of(blobs.size(), 0); // index into `blobs` -> into plan.blobs
  std::vector<std::vector<std::size_t>> blobs_of(manifests.size()); // into `blobs`
  for (std::size_t m = 0; m < manifests.size(); ++m) {
    auto references = parse_references(manifests[m].bytes);
    if (!references) {
      return make_error(ErrorKind::protocol,
                        "manifest " + manifests[m].digest + " is not a JSON object");
    }
    ManifestStep step;
    step.manifest = m;
    step.reference = m + 1 == manifests.size() ? top_reference : manifests[m].digest;
    for (const auto& digest : references->blobs) {
      auto found = blob_index.find(digest);
      if (found == blob_index.end()) {
        continue; // not in the source (a foreign layer): the registry judges the reference
      }
      if (!placed[found->second]) {
        placed[found->second] = true;
        order.push_back(found->second);
      }
      blobs_of[m].push_back(found->second);
    }
    for (const auto& digest : references->manifests) {
      // Only manifests before this one are children: the source lists children first.
      if (auto child = manifest_step.find(digest); child != manifest_step.end()) {
        if (std::find(step.children.begin(), step.children.end(), child->second) ==
            step.children.end()) {
          step.children.push_back(child->second);
        }
      }
    }
    manifest_step.emplace(manifests[m].digest, plan.manifests.size());
    plan.manifests.push_back(std::move(step));
  }
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    if (!placed[i]) {
      order.push_back(i); // referenced by no manifest: pushed anyway, as the source lists it
    }
  }
  std::vector<image::BlobDescriptor> busy; // the blobs that need a connection
  for (std::size_t i : order) {
    step_of[i] = plan.blobs.size();
    BlobAction action = compressed_on_upload.count(blobs[i].digest) != 0
                            ? BlobAction::compress_upload
                            : action_for(blobs[i], gate, policy);
    plan.blobs.push_back({blobs[i], action});
    if (action != BlobAction::skip && action != BlobAction::mounted) {
      busy.push_back(blobs[i]);
    }
  }
  for (std::size_t m = 0; m < manifests.size(); ++m) {
    for (std::size_t i : blobs_of[m]) {
      auto& refs = plan.manifests[m].blobs;
      if (std::find(refs.begin(), refs.end(), step_of[i]) == refs.end()) {
        refs.push_back(step_of[i]);
      }
    }
  }
  plan.jobs = choose_jobs(busy, policy.jobs);
  return plan;
}

} // namespace regauth::push
