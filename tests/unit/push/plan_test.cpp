#include "regauth/push/plan.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::image::BlobDescriptor;
using regauth::image::Manifest;
using regauth::push::BlobAction;
using regauth::push::GateAnswers;
using regauth::push::parse_references;
using regauth::push::plan_push;
using regauth::push::PushPlan;
using regauth::push::PushPolicy;

namespace {

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

BlobDescriptor blob(char c, std::uint64_t size = 1000) {
  return {digest_of(c), size, "application/vnd.oci.image.layer.v1.tar+gzip"};
}

Manifest image_manifest(const std::string& digest, char config, const std::string& layers) {
  nlohmann::json document = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config", {{"digest", digest_of(config)}, {"size", 1000}}},
                             {"layers", nlohmann::json::array()}};
  for (char layer : layers) {
    document["layers"].push_back({{"digest", digest_of(layer)}, {"size", 1000}});
  }
  return {"application/vnd.oci.image.manifest.v1+json", digest, document.dump(), false};
}

Manifest index_of(const std::string& digest, const std::vector<std::string>& children) {
  nlohmann::json document = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.index.v1+json"},
                             {"manifests", nlohmann::json::array()}};
  for (const auto& child : children) {
    document["manifests"].push_back({{"digest", child}, {"size", 500}});
  }
  return {"application/vnd.oci.image.index.v1+json", digest, document.dump(), true};
}

std::vector<std::string> digests(const PushPlan& plan) {
  std::vector<std::string> out;
  for (const auto& step : plan.blobs) {
    out.push_back(step.blob.digest);
  }
  return out;
}

std::vector<BlobAction> actions(const PushPlan& plan) {
  std::vector<BlobAction> out;
  for (const auto& step : plan.blobs) {
    out.push_back(step.action);
  }
  return out;
}

const std::string k_child_a = "sha256:" + std::string(63, '1') + "a";
const std::string k_child_b = "sha256:" + std::string(63, '1') + "b";
const std::string k_index = "sha256:" + std::string(63, '1') + "c";

} // namespace

TEST_CASE("push plan: an image manifest goes after its config and layers, under the tag",
          "[push][plan]") {
  std::vector<BlobDescriptor> blobs = {blob('c'), blob('1'), blob('2')};
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'c', "12")};
  auto plan = plan_push(blobs, manifests, "v1", GateAnswers{}, PushPolicy{});
  REQUIRE(plan);
  CHECK_FALSE(plan->nothing_to_send);
  CHECK(digests(*plan) == std::vector<std::string>{digest_of('c'), digest_of('1'), digest_of('2')});
  REQUIRE(plan->manifests.size() == 1);
  CHECK(plan->manifests[0].reference == "v1");
  CHECK(plan->manifests[0].blobs == std::vector<std::size_t>{0, 1, 2});
  CHECK(plan->manifests[0].children.empty());
  CHECK(plan->jobs == 3);
}

TEST_CASE("push plan: each child's blobs come together, children before the index, which waits "
          "only on its children",
          "[push][plan]") {
  // The source lists blobs config-first across both children; the plan groups them per child
  // so that child A's manifest can go while B's blobs are still on their way. Layer 's' is
  // shared by both children.
  std::vector<BlobDescriptor> blobs = {blob('a'), blob('b'), blob('s'), blob('x'), blob('y')};
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'a', "sx"),
                                     image_manifest(k_child_b, 'b', "sy"),
                                     index_of(k_index, {k_child_a, k_child_b})};
  auto plan = plan_push(blobs, manifests, "latest", GateAnswers{}, PushPolicy{});
  REQUIRE(plan);
  CHECK(digests(*plan) == std::vector<std::string>{digest_of('a'), digest_of('s'), digest_of('x'),
                                                   digest_of('b'), digest_of('y')});
  REQUIRE(plan->manifests.size() == 3);
  CHECK(plan->manifests[0].reference == k_child_a);
  CHECK(plan->manifests[0].blobs == std::vector<std::size_t>{0, 1, 2});
  CHECK(plan->manifests[1].reference == k_child_b);
  CHECK(plan->manifests[1].blobs == std::vector<std::size_t>{3, 1, 4});
  CHECK(plan->manifests[2].reference == "latest");
  CHECK(plan->manifests[2].blobs.empty());
  CHECK(plan->manifests[2].children == std::vector<std::size_t>{0, 1});
}

TEST_CASE("push plan: small blobs are probed by a mount from the repository, large ones by HEAD",
          "[push][plan]") {
  std::vector<BlobDescriptor> blobs = {blob('c'), blob('1', 100ULL << 20), blob('2')};
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'c', "12")};
  GateAnswers gate;
  gate.probe_digest = digest_of('c'); // the gate's 202 opened the config's upload session
  auto plan = plan_push(blobs, manifests, "v1", gate, PushPolicy{});
  REQUIRE(plan);
  CHECK(actions(*plan) == std::vector<BlobAction>{BlobAction::upload_on_gate,
                                                  BlobAction::head_upload,
                                                  BlobAction::mount_probe});
}

TEST_CASE("push plan: a gate that mounted its probe shows the registry mounts: large blobs are "
          "probed by mount too",
          "[push][plan]") {
  std::vector<BlobDescriptor> blobs = {blob('c'), blob('1', 100ULL << 20)};
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'c', "1")};
  GateAnswers gate;
  gate.probe_digest = digest_of('c');
  gate.probe_present = true;
  auto plan = plan_push(blobs, manifests, "v1", gate, PushPolicy{});
  REQUIRE(plan);
  CHECK(actions(*plan) == std::vector<BlobAction>{BlobAction::skip, BlobAction::mount_probe});
  CHECK(plan->jobs == 1); // the skipped blob needs no connection
  REQUIRE(plan->manifests.size() == 1);
  CHECK(plan->manifests[0].blobs == std::vector<std::size_t>{0, 1});
}

TEST_CASE("push plan: a large probe blob whose gate answered 202 is asked about by HEAD",
          "[push][plan]") {
  // A registry that never mounts answers 202 for a blob it has: for a large blob the HEAD is
  // worth its round trip.
  std::vector<BlobDescriptor> blobs = {blob('c', 100ULL << 20)};
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'c', "")};
  GateAnswers gate;
  gate.probe_digest = digest_of('c');
  auto plan = plan_push(blobs, manifests, "v1", gate, PushPolicy{});
  REQUIRE(plan);
  CHECK(actions(*plan) == std::vector<BlobAction>{BlobAction::head_upload});
}

TEST_CASE("push plan: with --mount-from, the gate's 201 is a mount and other blobs are HEADed "
          "then mounted",
          "[push][plan]") {
  std::vector<BlobDescriptor> blobs = {blob('c'), blob('1')};
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'c', "1")};
  GateAnswers gate;
  gate.probe_digest = digest_of('c');
  gate.probe_present = true;
  PushPolicy policy;
  policy.mount_from = "library/base";
  auto plan = plan_push(blobs, manifests, "v1", gate, policy);
  REQUIRE(plan);
  CHECK(actions(*plan) ==
        std::vector<BlobAction>{BlobAction::mounted, BlobAction::head_mount_upload});
}

TEST_CASE("push plan: nothing is sent when the tag names the manifest and the probe found its "
          "blob",
          "[push][plan]") {
  std::vector<BlobDescriptor> blobs = {blob('c'), blob('1')};
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'c', "1")};
  GateAnswers gate;
  gate.probe_digest = digest_of('c');
  gate.probe_present = true;
  gate.existing_digest = k_child_a;
  auto plan = plan_push(blobs, manifests, "v1", gate, PushPolicy{});
  REQUIRE(plan);
  CHECK(plan->nothing_to_send);
  CHECK(plan->manifests.empty());
  CHECK(plan->jobs == 0);
  CHECK(actions(*plan) == std::vector<BlobAction>{BlobAction::skip, BlobAction::skip});

  SECTION("but a tag naming the manifest while the probe blob is missing pushes everything") {
    gate.probe_present = false;
    auto again = plan_push(blobs, manifests, "v1", gate, PushPolicy{});
    REQUIRE(again);
    CHECK_FALSE(again->nothing_to_send);
    CHECK(again->manifests.size() == 1);
  }
  SECTION("and a tag naming another manifest pushes everything") {
    gate.existing_digest = k_child_b;
    auto again = plan_push(blobs, manifests, "v1", gate, PushPolicy{});
    REQUIRE(again);
    CHECK_FALSE(again->nothing_to_send);
  }
}

TEST_CASE("push plan: a layer the source does not hold is no dependency, a blob no manifest "
          "references still goes",
          "[push][plan]") {
  std::vector<BlobDescriptor> blobs = {blob('c'), blob('1'), blob('z')};
  // Layer '9' is foreign: the source leaves it out.
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'c', "19")};
  auto plan = plan_push(blobs, manifests, "v1", GateAnswers{}, PushPolicy{});
  REQUIRE(plan);
  CHECK(digests(*plan) == std::vector<std::string>{digest_of('c'), digest_of('1'), digest_of('z')});
  CHECK(plan->manifests[0].blobs == std::vector<std::size_t>{0, 1});
}

TEST_CASE("push plan: --jobs bounds the connections", "[push][plan]") {
  std::vector<BlobDescriptor> blobs = {blob('c'), blob('1'), blob('2'), blob('3')};
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'c', "123")};
  PushPolicy policy;
  policy.jobs = 2;
  auto plan = plan_push(blobs, manifests, "v1", GateAnswers{}, policy);
  REQUIRE(plan);
  CHECK(plan->jobs == 2);
}

TEST_CASE("push plan: no manifest, or a manifest that is not JSON, is a protocol error",
          "[push][plan]") {
  auto none = plan_push({}, {}, "v1", GateAnswers{}, PushPolicy{});
  REQUIRE_FALSE(none);
  CHECK(none.error().kind == ErrorKind::protocol);
  Manifest broken{"application/vnd.oci.image.manifest.v1+json", k_child_a, "{not json", false};
  auto bad = plan_push({}, {broken}, "v1", GateAnswers{}, PushPolicy{});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == ErrorKind::protocol);
  CHECK(bad.error().message.find(k_child_a) != std::string::npos);
}

TEST_CASE("push plan: references are read from an index and from an image manifest",
          "[push][plan]") {
  auto index = parse_references(index_of(k_index, {k_child_a, k_child_b}).bytes);
  REQUIRE(index);
  CHECK(index->manifests == std::vector<std::string>{k_child_a, k_child_b});
  CHECK(index->blobs.empty());
  auto image = parse_references(image_manifest(k_child_a, 'c', "12").bytes);
  REQUIRE(image);
  CHECK(image->blobs == std::vector<std::string>{digest_of('c'), digest_of('1'), digest_of('2')});
  CHECK(image->manifests.empty());
  // Malformed entries are ignored rather than trusted.
  auto odd = parse_references(R"({"layers": [{"digest": 5}, "x"], "config": []})");
  REQUIRE(odd);
  CHECK(odd->blobs.empty());
  CHECK_FALSE(parse_references("[]"));
}

TEST_CASE("push plan: layers compressed on upload are neither HEADed nor probed by their "
          "uncompressed digest",
          "[push][plan]") {
  std::vector<BlobDescriptor> blobs = {blob('c'), blob('1', 100ULL << 20), blob('2')};
  std::vector<Manifest> manifests = {image_manifest(k_child_a, 'c', "12")};
  GateAnswers gate;
  gate.probe_digest = digest_of('c');
  auto plan =
      plan_push(blobs, manifests, "v1", gate, PushPolicy{}, {digest_of('1'), digest_of('2')});
  REQUIRE(plan);
  CHECK(actions(*plan) == std::vector<BlobAction>{BlobAction::upload_on_gate,
                                                  BlobAction::compress_upload,
                                                  BlobAction::compress_upload});
  // The manifest still waits on all three.
  REQUIRE(plan->manifests.size() == 1);
  CHECK(plan->manifests[0].blobs.size() == 3);
}
