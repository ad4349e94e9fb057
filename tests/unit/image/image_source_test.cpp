#include "regauth/image/docker_archive.hpp"
#include "regauth/image/image_source.hpp"
#include "regauth/image/oci_layout.hpp"
#include "regauth/oci/digest.hpp"

#include "support/tar_writer.hpp"
#include "support/temp_dir.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::image::BlobDescriptor;
using regauth::image::BlobReader;
using regauth::image::ImageSource;
using regauth::image::open_docker_archive;
using regauth::image::open_image_source;
using regauth::image::open_oci_layout;
using regauth::image::sha256_digest;
using regauth::oci::Sha256;
using json = nlohmann::json;
namespace fs = std::filesystem;

using regauth::testing::TarEntry;
using regauth::testing::TempDir;
using regauth::testing::write_tar;

namespace {

constexpr const char* k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* k_oci_index = "application/vnd.oci.image.index.v1+json";
constexpr const char* k_oci_config = "application/vnd.oci.image.config.v1+json";
constexpr const char* k_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* k_layer_tar = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* k_docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
}

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 engine(seed);
  std::string out(size, '\0');
  for (auto& c : out) {
    c = static_cast<char>(engine() & 0xffU);
  }
  return out;
}

std::string hex_of(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

json descriptor(const std::string& media_type, const std::string& bytes) {
  return {{"mediaType", media_type}, {"digest", sha256_digest(bytes)}, {"size", bytes.size()}};
}

// Reads `reader` to its end, `chunk` bytes at a time; every read must succeed.
std::string read_all(BlobReader& reader, std::size_t chunk) {
  std::string out;
  std::vector<char> buffer(chunk);
  while (true) {
    auto n = reader.read(buffer.data(), buffer.size());
    REQUIRE(n.has_value());
    if (*n == 0) {
      break;
    }
    out.append(buffer.data(), *n);
  }
  return out;
}

// Reads a whole blob through open_blob, `chunk` bytes at a time.
std::string read_blob(const ImageSource& source, const BlobDescriptor& blob,
                      std::size_t chunk = 4096) {
  auto reader = source.open_blob(blob);
  REQUIRE(reader.has_value());
  return read_all(**reader, chunk);
}

// An OCI image layout under construction.
class Layout {
public:
  explicit Layout(fs::path dir) : m_dir(std::move(dir)) {
    write_file(m_dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  }

  // Stores a blob and returns its digest.
  std::string add_blob(const std::string& bytes) {
    auto digest = sha256_digest(bytes);
    write_file(m_dir / "blobs" / "sha256" / hex_of(digest), bytes);
    m_bytes[digest] = bytes;
    return digest;
  }

  // Stores a config, layers and an image manifest; returns the manifest's bytes.
  std::string add_image(const std::vector<std::string>& layers, const std::string& config_text) {
    add_blob(config_text);
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", k_oci_manifest},
                     {"config", descriptor(k_oci_config, config_text)},
                     {"layers", json::array()}};
    for (const auto& layer : layers) {
      add_blob(layer);
      manifest["layers"].push_back(descriptor(k_layer_gzip, layer));
    }
    auto bytes = manifest.dump();
    add_blob(bytes);
    return bytes;
  }

  void write_index(const json& manifests) {
    write_file(
        m_dir / "index.json",
        json{{"schemaVersion", 2}, {"mediaType", k_oci_index}, {"manifests", manifests}}.dump());
  }

  [[nodiscard]] const fs::path& dir() const { return m_dir; }
  [[nodiscard]] std::string bytes_of(const std::string& digest) const { return m_bytes.at(digest); }

private:
  fs::path m_dir;
  std::map<std::string, std::string> m_bytes;
};

json tagged(const json& descriptor_value, const std::string& tag) {
  auto out = descriptor_value;
  out["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
  return out;
}

const std::string k_config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}})";

} // namespace

TEST_CASE("sha256: known vectors, one-shot and incremental", "[image]") {
  CHECK(sha256_digest("") ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_digest("abc") ==
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 hash;
  hash.update("a");
  hash.update("");
  hash.update("bc");
  CHECK(hash.finish() == sha256_digest("abc"));
  // finish() starts over.
  hash.update("abc");
  CHECK(hash.finish() == sha256_digest("abc"));
  Sha256 moved = std::move(hash);
  moved.update("abc");
  CHECK(moved.finish() == sha256_digest("abc"));
}

TEST_CASE("oci layout: the tagged manifest, its config and layers", "[image]") {
  TempDir temp;
  Layout layout(temp.path() / "layout");
  std::string layer1 = "\x1f\x8b" + random_bytes(1000, 1);
  std::string layer2 = "\x1f\x8b" + random_bytes(300000, 2);
  auto manifest = layout.add_image({layer1, layer2}, k_config);
  layout.write_index(json::array({tagged(descriptor(k_oci_manifest, manifest), "latest")}));

  auto source = open_oci_layout(layout.dir().string(), "latest");
  REQUIRE(source.has_value());
  const auto& manifests = (*source)->manifests();
  REQUIRE(manifests.size() == 1);
  CHECK(manifests[0].bytes == manifest);
  CHECK(manifests[0].digest == sha256_digest(manifest));
  CHECK(manifests[0].media_type == k_oci_manifest);
  CHECK_FALSE(manifests[0].is_index);

  const auto& blobs = (*source)->blobs();
  REQUIRE(blobs.size() == 3);
  CHECK(blobs[0].digest == sha256_digest(k_config));
  CHECK(blobs[0].media_type == k_oci_config);
  CHECK(blobs[0].size == k_config.size());
  CHECK(blobs[1].digest == sha256_digest(layer1));
  CHECK(blobs[2].digest == sha256_digest(layer2));
  CHECK(blobs[2].size == layer2.size());
  CHECK(blobs[2].media_type == k_layer_gzip);

  CHECK(read_blob(**source, blobs[2]) == layer2);
  CHECK(read_blob(**source, blobs[0], 7) == k_config);
  CHECK((*source)->description() == "oci:" + layout.dir().string() + ":latest");
}

TEST_CASE("oci layout: tags select among several manifests", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto v1 = layout.add_image({"layer-one"}, R"({"v":1})");
  auto v2 = layout.add_image({"layer-two"}, R"({"v":2})");
  layout.write_index(json::array({tagged(descriptor(k_oci_manifest, v1), "v1"),
                                  tagged(descriptor(k_oci_manifest, v2), "v2")}));
  for (const auto& [tag, bytes] :
       std::vector<std::pair<std::string, std::string>>{{"v1", v1}, {"v2", v2}}) {
    INFO("tag: " << tag);
    auto source = open_oci_layout(temp.path().string(), tag);
    REQUIRE(source.has_value());
    REQUIRE((*source)->manifests().size() == 1);
    CHECK((*source)->manifests()[0].bytes == bytes);
  }
}

TEST_CASE("oci layout: a missing tag fails listing the tags there are", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto v1 = layout.add_image({"layer-one"}, R"({"v":1})");
  auto v2 = layout.add_image({"layer-two"}, R"({"v":2})");
  layout.write_index(json::array({tagged(descriptor(k_oci_manifest, v2), "v2"),
                                  tagged(descriptor(k_oci_manifest, v1), "v1")}));
  for (const std::string tag : {"v3", ""}) {
    INFO("tag: " << tag);
    auto source = open_oci_layout(temp.path().string(), tag);
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == ErrorKind::not_found);
    CHECK_THAT(source.error().message, Catch::Contains("available tags: v1, v2"));
  }
}

TEST_CASE("oci layout: the only manifest is taken without a tag or an annotation", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto manifest = layout.add_image({"layer"}, k_config);
  layout.write_index(json::array({descriptor(k_oci_manifest, manifest)}));
  for (const std::string tag : {"", "anything"}) {
    INFO("tag: " << tag);
    auto source = open_oci_layout(temp.path().string(), tag);
    REQUIRE(source.has_value());
    CHECK((*source)->manifests().at(0).bytes == manifest);
  }
}

TEST_CASE("oci layout: the only manifest tagged otherwise does not match a tag", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto manifest = layout.add_image({"layer"}, k_config);
  layout.write_index(json::array({tagged(descriptor(k_oci_manifest, manifest), "v1")}));
  auto source = open_oci_layout(temp.path().string(), "v2");
  REQUIRE_FALSE(source.has_value());
  CHECK(source.error().kind == ErrorKind::not_found);
  CHECK_THAT(source.error().message, Catch::Contains("available tags: v1"));
}

TEST_CASE("oci layout: an index with two platforms pushes both manifests, then the index",
          "[image]") {
  for (const std::string index_type : {k_oci_index, k_docker_list}) {
    INFO("index media type: " << index_type);
    TempDir temp;
    Layout layout(temp.path());
    const std::string shared = "shared-layer";
    auto amd64 = layout.add_image({shared, "amd64-layer"}, R"({"architecture":"amd64"})");
    auto arm64 = layout.add_image({shared, "arm64-layer"}, R"({"architecture":"arm64"})");
    auto child = [&](const std::string& bytes, const std::string& arch) {
      auto d = descriptor(k_oci_manifest, bytes);
      d["platform"] = {{"os", "linux"}, {"architecture", arch}};
      return d;
    };
    json index = {{"schemaVersion", 2},
                  {"mediaType", index_type},
                  {"manifests", json::array({child(amd64, "amd64"), child(arm64, "arm64")})}};
    auto index_bytes = index.dump(2); // not compact: must be pushed byte for byte
    layout.add_blob(index_bytes);
    layout.write_index(json::array({tagged(descriptor(index_type, index_bytes), "latest")}));

    auto source = open_oci_layout(temp.path().string(), "latest");
    REQUIRE(source.has_value());
    const auto& manifests = (*source)->manifests();
    REQUIRE(manifests.size() == 3);
    CHECK(manifests[0].bytes == amd64);
    CHECK(manifests[1].bytes == arm64);
    CHECK(manifests[2].bytes == index_bytes);
    CHECK(manifests[2].media_type == index_type);
    CHECK(manifests[2].is_index);
    CHECK_FALSE(manifests[0].is_index);

    std::vector<std::string> digests;
    for (const auto& blob : (*source)->blobs()) {
      digests.push_back(blob.digest);
    }
    CHECK(digests == std::vector<std::string>{sha256_digest(R"({"architecture":"amd64"})"),
                                              sha256_digest(shared), sha256_digest("amd64-layer"),
                                              sha256_digest(R"({"architecture":"arm64"})"),
                                              sha256_digest("arm64-layer")});
  }
}

TEST_CASE("oci layout: a bad digest in index.json is rejected before any file access", "[image]") {
  TempDir temp;
  Layout layout(temp.path() / "layout");
  // What blobs/sha256/../../outside would reach: a valid manifest, so only validation stops it.
  auto manifest = layout.add_image({"layer"}, k_config);
  write_file(layout.dir() / "outside", manifest);
  for (const auto& bad :
       std::vector<std::string>{"sha256:../../outside", "sha256:../../../etc/passwd",
                                "sha256:" + std::string(64, 'A'), "md5:abc", "sha256"}) {
    INFO("digest: " << bad);
    json d = {{"mediaType", k_oci_manifest}, {"digest", bad}, {"size", manifest.size()}};
    layout.write_index(json::array({tagged(d, "latest")}));
    auto source = open_oci_layout(layout.dir().string(), "latest");
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == ErrorKind::protocol);
    CHECK_THAT(source.error().message, Catch::Contains("invalid digest"));
  }
}

TEST_CASE("oci layout: a bad digest in a manifest's layers is rejected", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  layout.add_blob(k_config);
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", k_oci_manifest},
                   {"config", descriptor(k_oci_config, k_config)},
                   {"layers", json::array({{{"mediaType", k_layer_gzip},
                                            {"digest", "sha256:../../../oci-layout"},
                                            {"size", 30}}})}};
  auto bytes = manifest.dump();
  layout.add_blob(bytes);
  layout.write_index(json::array({descriptor(k_oci_manifest, bytes)}));
  auto source = open_oci_layout(temp.path().string(), "");
  REQUIRE_FALSE(source.has_value());
  CHECK(source.error().kind == ErrorKind::protocol);
  CHECK_THAT(source.error().message, Catch::Contains("layers[0]"));
}

TEST_CASE("oci layout: a blob whose size differs from its descriptor is rejected", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  layout.add_blob(k_config);
  layout.add_blob("12345");
  auto layer = descriptor(k_layer_gzip, "12345");
  layer["size"] = 6;
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", k_oci_manifest},
                   {"config", descriptor(k_oci_config, k_config)},
                   {"layers", json::array({layer})}};
  auto bytes = manifest.dump();
  layout.add_blob(bytes);
  layout.write_index(json::array({descriptor(k_oci_manifest, bytes)}));
  auto source = open_oci_layout(temp.path().string(), "");
  REQUIRE_FALSE(source.has_value());
  CHECK(source.error().kind == ErrorKind::protocol);
  CHECK_THAT(source.error().message, Catch::Contains("has 5 bytes, its descriptor says 6"));
}

TEST_CASE("oci layout: a manifest whose bytes do not match its digest is rejected", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto manifest = layout.add_image({"layer"}, k_config);
  // Same size, one byte changed, stored under the original digest.
  auto tampered = manifest;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == ']' ? ' ' : ']';
  write_file(temp.path() / "blobs" / "sha256" / hex_of(sha256_digest(manifest)), tampered);
  layout.write_index(json::array({descriptor(k_oci_manifest, manifest)}));
  auto source = open_oci_layout(temp.path().string(), "");
  REQUIRE_FALSE(source.has_value());
  CHECK(source.error().kind == ErrorKind::protocol);
  CHECK_THAT(source.error().message, Catch::Contains("has digest " + sha256_digest(tampered)));
}

TEST_CASE("oci layout: a manifest size that differs from its descriptor is rejected", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto manifest = layout.add_image({"layer"}, k_config);
  auto d = descriptor(k_oci_manifest, manifest);
  d["size"] = manifest.size() + 1;
  layout.write_index(json::array({d}));
  auto source = open_oci_layout(temp.path().string(), "");
  REQUIRE_FALSE(source.has_value());
  CHECK(source.error().kind == ErrorKind::protocol);
}

TEST_CASE("oci layout: missing pieces fail as not found", "[image]") {
  SECTION("a missing layer blob") {
    TempDir temp;
    Layout layout(temp.path());
    auto manifest = layout.add_image({"layer"}, k_config);
    fs::remove(temp.path() / "blobs" / "sha256" / hex_of(sha256_digest("layer")));
    layout.write_index(json::array({descriptor(k_oci_manifest, manifest)}));
    auto source = open_oci_layout(temp.path().string(), "");
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == ErrorKind::not_found);
    CHECK_THAT(source.error().message, Catch::Contains(sha256_digest("layer")));
  }
  SECTION("a missing child manifest of an index") {
    TempDir temp;
    Layout layout(temp.path());
    auto child = layout.add_image({"layer"}, k_config);
    json index = {{"schemaVersion", 2},
                  {"mediaType", k_oci_index},
                  {"manifests", json::array({descriptor(k_oci_manifest, child),
                                             descriptor(k_oci_manifest, "not stored")})}};
    layout.add_blob(index.dump());
    layout.write_index(json::array({descriptor(k_oci_index, index.dump())}));
    auto source = open_oci_layout(temp.path().string(), "");
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == ErrorKind::not_found);
  }
  SECTION("no oci-layout file") {
    TempDir temp;
    Layout layout(temp.path());
    auto manifest = layout.add_image({"layer"}, k_config);
    layout.write_index(json::array({descriptor(k_oci_manifest, manifest)}));
    fs::remove(temp.path() / "oci-layout");
    auto source = open_oci_layout(temp.path().string(), "");
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == ErrorKind::not_found);
    CHECK_THAT(source.error().message, Catch::Contains("oci-layout"));
  }
  SECTION("no directory") {
    TempDir temp;
    auto source = open_oci_layout((temp.path() / "nope").string(), "");
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == ErrorKind::not_found);
  }
}

TEST_CASE("oci layout: malformed index.json fails as a protocol error", "[image]") {
  for (const auto& text : std::vector<std::string>{
           "{", "[]", R"({"manifests":{}})", R"({"manifests":[{"digest":1,"size":2}]})",
           R"({"manifests":[{"digest":"sha256:)" + std::string(64, 'a') + R"(","size":-1}]})"}) {
    INFO("index.json: " << text);
    TempDir temp;
    Layout layout(temp.path());
    write_file(temp.path() / "index.json", text);
    auto source = open_oci_layout(temp.path().string(), "");
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == ErrorKind::protocol);
  }
}

TEST_CASE("oci layout: open_blob refuses a bad digest", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto manifest = layout.add_image({"layer"}, k_config);
  layout.write_index(json::array({descriptor(k_oci_manifest, manifest)}));
  auto source = open_oci_layout(temp.path().string(), "");
  REQUIRE(source.has_value());
  auto reader = (*source)->open_blob(BlobDescriptor{"sha256:../../oci-layout", 1, ""});
  REQUIRE_FALSE(reader.has_value());
  CHECK(reader.error().kind == ErrorKind::protocol);
  auto missing = (*source)->open_blob(BlobDescriptor{sha256_digest("absent"), 6, ""});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().kind == ErrorKind::not_found);
}

TEST_CASE("docker archive: legacy docker save becomes an OCI manifest", "[image]") {
  TempDir temp;
  std::string layer1 = random_bytes(200000, 3);
  std::string layer2 = "\x1f\x8b" + random_bytes(5000, 4);
  auto config_name = hex_of(sha256_digest(k_config)) + ".json";
  json manifest_json =
      json::array({{{"Config", config_name},
                    {"RepoTags", {"app:1"}},
                    {"Layers", {"aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"}}}});
  auto path = temp.path() / "app.tar";
  write_tar(path, {
                      {"aaa/VERSION", "1.0", ""},
                      {"aaa/layer.tar", layer1, ""},
                      {"bbb/layer.tar", layer2, ""},
                      // Docker shares identical layers through symlinks.
                      {"ccc/layer.tar", "", "../aaa/layer.tar"},
                      {config_name, k_config, ""},
                      {"manifest.json", manifest_json.dump(), ""},
                      {"repositories", R"({"app":{"1":"aaa"}})", ""},
                  });

  auto source = open_docker_archive(path.string(), "");
  REQUIRE(source.has_value());
  const auto& manifests = (*source)->manifests();
  REQUIRE(manifests.size() == 1);
  CHECK(manifests[0].media_type == k_oci_manifest);
  CHECK(manifests[0].digest == sha256_digest(manifests[0].bytes));
  CHECK_FALSE(manifests[0].is_index);

  auto manifest = json::parse(manifests[0].bytes);
  CHECK(manifest["schemaVersion"] == 2);
  CHECK(manifest["mediaType"] == k_oci_manifest);
  CHECK(manifest["config"] == json({{"mediaType", k_oci_config},
                                    {"digest", sha256_digest(k_config)},
                                    {"size", k_config.size()}}));
  REQUIRE(manifest["layers"].size() == 3);
  CHECK(manifest["layers"][0] == json({{"mediaType", k_layer_tar},
                                       {"digest", sha256_digest(layer1)},
                                       {"size", layer1.size()}}));
  CHECK(manifest["layers"][1]["mediaType"] == k_layer_gzip);
  CHECK(manifest["layers"][1]["digest"] == sha256_digest(layer2));
  CHECK(manifest["layers"][2] == manifest["layers"][0]);

  const auto& blobs = (*source)->blobs();
  REQUIRE(blobs.size() == 3);
  CHECK(blobs[0].digest == sha256_digest(k_config));
  CHECK(read_blob(**source, blobs[0]) == k_config);
  CHECK(read_blob(**source, blobs[1], 1000) == layer1);
  CHECK(read_blob(**source, blobs[2]) == layer2);
  CHECK((*source)->description() == "docker-archive:" + path.string());
}

TEST_CASE("docker archive: Docker 25 OCI-style paths", "[image]") {
  TempDir temp;
  std::string layer = random_bytes(70000, 5);
  auto config_path = "blobs/sha256/" + hex_of(sha256_digest(k_config));
  auto layer_path = "blobs/sha256/" + hex_of(sha256_digest(layer));
  json manifest_json =
      json::array({{{"Config", config_path}, {"RepoTags", {"app:2"}}, {"Layers", {layer_path}}}});
  auto path = temp.path() / "app.tar";
  write_tar(path, {
                      {config_path, k_config, ""},
                      {layer_path, layer, ""},
                      {"index.json", "{}", ""},
                      {"manifest.json", manifest_json.dump(), ""},
                      {"oci-layout", R"({"imageLayoutVersion":"1.0.0"})", ""},
                  });
  auto source = open_docker_archive(path.string(), "app:2");
  REQUIRE(source.has_value());
  const auto& blobs = (*source)->blobs();
  REQUIRE(blobs.size() == 2);
  CHECK(blobs[1].digest == sha256_digest(layer));
  CHECK(blobs[1].size == layer.size());
  CHECK(blobs[1].media_type == k_layer_tar);
  CHECK(read_blob(**source, blobs[1], 65536) == layer);
}

TEST_CASE("docker archive: repo tags select an image, a missing one lists them", "[image]") {
  TempDir temp;
  json manifest_json = json::array({
      {{"Config", "one.json"}, {"RepoTags", {"app:1"}}, {"Layers", {"l1/layer.tar"}}},
      {{"Config", "two.json"}, {"RepoTags", {"app:latest", "app:2"}}, {"Layers", {"l2/layer.tar"}}},
  });
  auto path = temp.path() / "two.tar";
  write_tar(path, {{"l1/layer.tar", "first", ""},
                   {"l2/layer.tar", "second", ""},
                   {"one.json", R"({"n":1})", ""},
                   {"two.json", R"({"n":2})", ""},
                   {"manifest.json", manifest_json.dump(), ""}});
  struct Case {
    std::string repo_tag;
    std::string config;
  };
  for (const auto& c : {Case{"", R"({"n":1})"}, Case{"app:1", R"({"n":1})"},
                        Case{"app:2", R"({"n":2})"}, Case{"app", R"({"n":2})"}}) {
    INFO("repo tag: " << c.repo_tag);
    auto source = open_docker_archive(path.string(), c.repo_tag);
    REQUIRE(source.has_value());
    CHECK((*source)->blobs().at(0).digest == sha256_digest(c.config));
  }
  auto missing = open_docker_archive(path.string(), "app:3");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().kind == ErrorKind::not_found);
  CHECK_THAT(missing.error().message, Catch::Contains("available tags: app:1, app:latest, app:2"));
}

TEST_CASE("docker archive: broken archives fail naming the problem", "[image]") {
  struct Case {
    std::string name;
    std::vector<TarEntry> entries;
    ErrorKind kind;
    std::string message_part;
  };
  std::vector<Case> cases = {
      {"no manifest.json", {{"a/layer.tar", "x", ""}}, ErrorKind::protocol, "no manifest.json"},
      {"manifest.json not an array",
       {{"manifest.json", "{}", ""}},
       ErrorKind::protocol,
       "expected a JSON array"},
      {"empty manifest.json", {{"manifest.json", "[]", ""}}, ErrorKind::protocol, "no images"},
      {"missing layer",
       {{"c.json", "{}", ""},
        {"manifest.json", R"([{"Config":"c.json","Layers":["gone/layer.tar"]}])", ""}},
       ErrorKind::not_found,
       "gone/layer.tar"},
      {"layer path escaping the root",
       {{"c.json", "{}", ""},
        {"manifest.json", R"([{"Config":"c.json","Layers":["../../etc/passwd"]}])", ""}},
       ErrorKind::not_found,
       "../../etc/passwd"},
      {"dangling symlink",
       {{"c.json", "{}", ""},
        {"a/layer.tar", "", "../b/layer.tar"},
        {"manifest.json", R"([{"Config":"c.json","Layers":["a/layer.tar"]}])", ""}},
       ErrorKind::not_found,
       "a/layer.tar"},
      {"missing Config",
       {{"manifest.json", R"([{"Layers":[]}])", ""}},
       ErrorKind::protocol,
       "no Config"},
  };
  for (const auto& c : cases) {
    INFO("case: " << c.name);
    TempDir temp;
    auto path = temp.path() / "broken.tar";
    write_tar(path, c.entries);
    auto source = open_docker_archive(path.string(), "");
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == c.kind);
    CHECK_THAT(source.error().message, Catch::Contains(c.message_part));
  }
  SECTION("not a tar file") {
    TempDir temp;
    write_file(temp.path() / "junk.tar", random_bytes(5000, 9));
    auto source = open_docker_archive((temp.path() / "junk.tar").string(), "");
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == ErrorKind::io);
  }
  SECTION("no file") {
    TempDir temp;
    auto source = open_docker_archive((temp.path() / "none.tar").string(), "");
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == ErrorKind::not_found);
  }
}

TEST_CASE("image source: the forms the push command takes", "[image]") {
  TempDir temp;
  Layout layout(temp.path() / "dir:with:colons" / "layout");
  auto manifest = layout.add_image({"layer"}, k_config);
  layout.write_index(json::array({tagged(descriptor(k_oci_manifest, manifest), "v1")}));
  auto archive = temp.path() / "app.tar";
  write_tar(archive,
            {{"l/layer.tar", "layer", ""},
             {"c.json", k_config, ""},
             {"manifest.json",
              R"([{"Config":"c.json","RepoTags":["app:1"],"Layers":["l/layer.tar"]}])", ""}});
  const auto dir = layout.dir().string();

  struct Case {
    std::string source;
    std::string description;
  };
  for (const auto& c : {
           Case{"oci:" + dir + ":v1", "oci:" + dir + ":v1"},
           Case{"oci:" + dir, "oci:" + dir},
           Case{dir, "oci:" + dir},
           Case{"docker-archive:" + archive.string(), "docker-archive:" + archive.string()},
           Case{"docker-archive:" + archive.string() + ":app:1",
                "docker-archive:" + archive.string() + ":app:1"},
           Case{archive.string(), "docker-archive:" + archive.string()},
       }) {
    INFO("source: " << c.source);
    auto source = open_image_source(c.source);
    REQUIRE(source.has_value());
    CHECK((*source)->description() == c.description);
    CHECK((*source)->manifests().size() == 1);
  }

  struct Bad {
    std::string source;
    ErrorKind kind;
  };
  for (const auto& bad : {
           Bad{"", ErrorKind::usage},
           Bad{"docker://r.example/app", ErrorKind::usage},
           Bad{"oci:", ErrorKind::usage},
           Bad{"oci:" + dir + ":v2", ErrorKind::not_found},
           Bad{(temp.path() / "missing").string(), ErrorKind::not_found},
           Bad{(temp.path() / "missing.tar").string(), ErrorKind::not_found},
           Bad{"docker-archive:" + (temp.path() / "missing.tar").string(), ErrorKind::not_found},
           Bad{(layout.dir() / "oci-layout").string(), ErrorKind::usage},
       }) {
    INFO("source: " << bad.source);
    auto source = open_image_source(bad.source);
    REQUIRE_FALSE(source.has_value());
    CHECK(source.error().kind == bad.kind);
  }
}

TEST_CASE("verified blob: matching bytes stream whole, in any chunk size", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto layer = random_bytes(10000, 7);
  auto manifest = layout.add_image({layer}, k_config);
  layout.write_index(json::array({descriptor(k_oci_manifest, manifest)}));
  auto source = open_oci_layout(temp.path().string(), "");
  REQUIRE(source.has_value());
  const auto& blob = (*source)->blobs().back();
  for (std::size_t chunk : {1U, 999U, 4096U, 20000U}) {
    auto reader = regauth::image::open_verified_blob(**source, blob);
    REQUIRE(reader.has_value());
    CHECK(read_all(**reader, chunk) == layer);
  }
}

TEST_CASE("verified blob: bytes that differ from the digest are refused before the last of them",
          "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto layer = random_bytes(10000, 8);
  auto manifest = layout.add_image({layer}, k_config);
  layout.write_index(json::array({descriptor(k_oci_manifest, manifest)}));
  auto source = open_oci_layout(temp.path().string(), "");
  REQUIRE(source.has_value());
  const auto& blob = (*source)->blobs().back();
  auto path = temp.path() / "blobs" / "sha256" / hex_of(blob.digest);
  auto corrupt = layer;
  corrupt[5000] = static_cast<char>(corrupt[5000] ^ 0x01);
  write_file(path, corrupt); // same size: only the hash can tell

  auto reader = regauth::image::open_verified_blob(**source, blob);
  REQUIRE(reader.has_value());
  std::vector<char> buffer(4096);
  std::size_t handed_over = 0;
  std::optional<regauth::Error> failure;
  for (int i = 0; i < 10 && !failure; ++i) {
    auto n = (*reader)->read(buffer.data(), buffer.size());
    if (!n) {
      failure = n.error();
    } else {
      handed_over += *n;
    }
  }
  REQUIRE(failure.has_value());
  CHECK(handed_over < layer.size());
  CHECK(failure->kind == ErrorKind::protocol);
  CHECK_THAT(failure->message, Catch::Contains(blob.digest));
  CHECK_THAT(failure->message, Catch::Contains(path.string()));
  CHECK_THAT(failure->message, Catch::Contains("does not match its digest"));
  CHECK_THAT(failure->message, Catch::Contains(sha256_digest(corrupt)));
}

TEST_CASE("verified blob: a file that ends before its size is an io error", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto layer = random_bytes(3000, 9);
  auto manifest = layout.add_image({layer}, k_config);
  layout.write_index(json::array({descriptor(k_oci_manifest, manifest)}));
  auto source = open_oci_layout(temp.path().string(), "");
  REQUIRE(source.has_value());
  const auto& blob = (*source)->blobs().back();
  write_file(temp.path() / "blobs" / "sha256" / hex_of(blob.digest), layer.substr(0, 1000));
  auto reader = regauth::image::open_verified_blob(**source, blob);
  REQUIRE(reader.has_value());
  std::vector<char> buffer(4096);
  auto first = (*reader)->read(buffer.data(), buffer.size());
  REQUIRE(first.has_value());
  CHECK(*first == 1000);
  auto second = (*reader)->read(buffer.data(), buffer.size());
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().kind == ErrorKind::io);
  CHECK_THAT(second.error().message, Catch::Contains("ended after 1000 bytes"));
}

TEST_CASE("verified blob: an empty blob is checked when it is opened", "[image]") {
  TempDir temp;
  Layout layout(temp.path());
  auto manifest = layout.add_image({""}, k_config);
  layout.write_index(json::array({descriptor(k_oci_manifest, manifest)}));
  auto source = open_oci_layout(temp.path().string(), "");
  REQUIRE(source.has_value());
  BlobDescriptor empty = (*source)->blobs().back();
  REQUIRE(empty.size == 0);
  CHECK(regauth::image::open_verified_blob(**source, empty).has_value());
  // The same empty file under a digest that is not the empty string's.
  BlobDescriptor wrong = empty;
  wrong.digest = sha256_digest("not empty");
  write_file(temp.path() / "blobs" / "sha256" / hex_of(wrong.digest), "");
  auto opened = regauth::image::open_verified_blob(**source, wrong);
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().kind == ErrorKind::protocol);
}

TEST_CASE("digester: sha256 and sha512 as digests name them", "[image]") {
  regauth::oci::Digester sha256("sha256");
  sha256.update("ab");
  sha256.update("c");
  CHECK(sha256.finish() ==
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  regauth::oci::Digester sha512("sha512");
  sha512.update("abc");
  CHECK(sha512.finish().rfind("sha512:ddaf35a193617aba", 0) == 0);
  regauth::oci::Digester unknown("md5");
  unknown.update("abc");
  CHECK(unknown.finish().empty());
}
