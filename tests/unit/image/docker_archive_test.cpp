#include "regauth/image/docker_archive.hpp"
#include "regauth/image/image_source.hpp"

#include "support/tar_writer.hpp"
#include "support/temp_dir.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using regauth::ErrorKind;
using regauth::image::BlobDescriptor;
using regauth::image::ImageSource;
using regauth::image::open_docker_archive;
using regauth::image::open_verified_blob;
using regauth::image::sha256_digest;
using regauth::testing::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

using regauth::testing::TarEntry;
using regauth::testing::write_tar;

namespace {

constexpr const char* k_layer_tar = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* k_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";

// Random bytes that start as an uncompressed tar does (no gzip or zstd magic).
std::string layer_bytes(std::size_t size, unsigned seed) {
  std::mt19937 engine(seed);
  std::string out(size, '\0');
  for (auto& c : out) {
    c = static_cast<char>(engine() & 0xffU);
  }
  out.replace(0, 4, "etc/");
  return out;
}

// The same bytes with one flipped in the middle: same size, another digest.
std::string altered(std::string bytes) {
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  return bytes;
}

std::string hex_of(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

std::string config_with(const json& diff_ids) {
  return json{{"architecture", "amd64"},
              {"os", "linux"},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
      .dump();
}

// A legacy `docker save` tarball: `<hex>.json` config, `<name>/layer.tar` per layer (an entry
// with a symlink target is a shared layer), manifest.json last.
void write_legacy(const fs::path& path, const std::string& config,
                  const std::vector<TarEntry>& layers) {
  auto config_name = hex_of(sha256_digest(config)) + ".json";
  json names = json::array();
  std::vector<TarEntry> entries;
  for (const auto& layer : layers) {
    names.push_back(layer.name + "/layer.tar");
    entries.push_back({layer.name + "/VERSION", "1.0", ""});
    entries.push_back({layer.name + "/json", R"({"id":")" + layer.name + R"("})", ""});
    entries.push_back({layer.name + "/layer.tar", layer.bytes, layer.symlink});
  }
  entries.push_back({config_name, config, ""});
  json manifest =
      json::array({{{"Config", config_name}, {"RepoTags", {"app:1"}}, {"Layers", names}}});
  entries.push_back({"manifest.json", manifest.dump(), ""});
  write_tar(path, entries);
}

// Reads a blob whole through the verified reader; returns the error of the read that failed.
regauth::Result<std::string> read_verified(const ImageSource& source, const BlobDescriptor& blob) {
  auto reader = open_verified_blob(source, blob);
  if (!reader) {
    return reader.error();
  }
  std::string out;
  std::vector<char> buffer(65536);
  while (true) {
    auto n = (*reader)->read(buffer.data(), buffer.size());
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      return out;
    }
    out.append(buffer.data(), *n);
  }
}

// Bytes this process has read with read(2) and its kin so far (Linux /proc/self/io `rchar`).
long long bytes_read_so_far() {
  std::ifstream in("/proc/self/io");
  std::string key;
  long long value = 0;
  while (in >> key >> value) {
    if (key == "rchar:") {
      return value;
    }
  }
  FAIL("no rchar in /proc/self/io");
  return -1;
}

} // namespace

TEST_CASE("docker archive: a legacy uncompressed layer's digest is its diff_id and is checked as "
          "it streams",
          "[image]") {
  TempDir temp;
  std::string first = layer_bytes(150000, 1);
  std::string second = layer_bytes(70000, 2);
  auto config = config_with({sha256_digest(first), sha256_digest(second)});
  auto path = temp.path() / "app.tar";
  // The first layer's bytes changed after the config was written: same size, other digest.
  write_legacy(path, config, {{"aaa", altered(first), ""}, {"bbb", second, ""}});

  auto source = open_docker_archive(path.string(), "");
  REQUIRE(source.has_value());
  const auto& blobs = (*source)->blobs();
  REQUIRE(blobs.size() == 3);
  CHECK(blobs[0].digest == sha256_digest(config));
  // Not hashed at open: the digest is what the config states.
  CHECK(blobs[1].digest == sha256_digest(first));
  CHECK(blobs[1].size == first.size());
  CHECK(blobs[1].media_type == k_layer_tar);
  CHECK(blobs[2].digest == sha256_digest(second));

  auto bad = read_verified(**source, blobs[1]);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().kind == ErrorKind::protocol);
  CHECK_THAT(bad.error().message, Catch::Contains("does not match its digest") &&
                                      Catch::Contains("aaa/layer.tar") &&
                                      Catch::Contains(sha256_digest(altered(first))));
  auto good = read_verified(**source, blobs[2]);
  REQUIRE(good.has_value());
  CHECK(*good == second);
  auto config_read = read_verified(**source, blobs[0]);
  REQUIRE(config_read.has_value());
  CHECK(*config_read == config);
}

TEST_CASE("docker archive: opening skips the layer data in both layouts", "[image]") {
  TempDir temp;
  (void)regauth::image::libarchive_version(); // the library is loaded outside the count
  std::string first = layer_bytes(8U << 20U, 3);
  std::string second = layer_bytes(8U << 20U, 4);
  auto config = config_with({sha256_digest(first), sha256_digest(second)});

  auto legacy = temp.path() / "legacy.tar";
  write_legacy(legacy, config, {{"aaa", first, ""}, {"bbb", second, ""}});
  auto oci = temp.path() / "oci.tar";
  auto name_of = [](const std::string& bytes) {
    return "blobs/sha256/" + hex_of(sha256_digest(bytes));
  };
  json manifest =
      json::array({{{"Config", name_of(config)}, {"Layers", {name_of(first), name_of(second)}}}});
  write_tar(oci, {{name_of(config), config, ""},
                  {name_of(first), first, ""},
                  {name_of(second), second, ""},
                  {"index.json", "{}", ""},
                  {"manifest.json", manifest.dump(), ""},
                  {"oci-layout", R"({"imageLayoutVersion":"1.0.0"})", ""}});

  for (const auto& path : {legacy, oci}) {
    INFO("archive: " << path.filename().string());
    REQUIRE(fs::file_size(path) > (16U << 20U));
    auto before = bytes_read_so_far();
    auto source = open_docker_archive(path.string(), "");
    auto read = bytes_read_so_far() - before;
    REQUIRE(source.has_value());
    CHECK(read < (1 << 20)); // 16 MiB of layers, less than 1 MiB read
    const auto& blobs = (*source)->blobs();
    REQUIRE(blobs.size() == 3);
    CHECK(blobs[1].digest == sha256_digest(first));
    CHECK(blobs[1].size == first.size());
    CHECK(blobs[2].digest == sha256_digest(second));
    auto streamed = read_verified(**source, blobs[2]);
    REQUIRE(streamed.has_value());
    CHECK(*streamed == second);
  }
}

TEST_CASE("docker archive: a blobs/sha256 name is the layer's digest and is checked as it streams",
          "[image]") {
  TempDir temp;
  std::string config = config_with(json::array());
  auto config_path = "blobs/sha256/" + hex_of(sha256_digest(config));
  std::string expected = layer_bytes(5000, 5);
  auto layer_path = "blobs/sha256/" + hex_of(sha256_digest(expected));
  json manifest_json = json::array({{{"Config", config_path}, {"Layers", {layer_path}}}});
  auto path = temp.path() / "app.tar";
  write_tar(path, {{config_path, config, ""},
                   {layer_path, altered(expected), ""},
                   {"manifest.json", manifest_json.dump(), ""}});
  auto source = open_docker_archive(path.string(), "");
  REQUIRE(source.has_value());
  const auto& blobs = (*source)->blobs();
  REQUIRE(blobs.size() == 2);
  CHECK(blobs[1].digest == sha256_digest(expected));
  auto bad = read_verified(**source, blobs[1]);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().kind == ErrorKind::protocol);
  CHECK_THAT(bad.error().message,
             Catch::Contains("does not match its digest") && Catch::Contains(layer_path));

  SECTION("a blobs/sha256 config with other content is rejected at open") {
    auto wrong = "blobs/sha256/" + hex_of(sha256_digest("another config"));
    json named_wrong = json::array({{{"Config", wrong}, {"Layers", {layer_path}}}});
    auto broken = temp.path() / "broken.tar";
    write_tar(broken, {{wrong, config, ""},
                       {layer_path, expected, ""},
                       {"manifest.json", named_wrong.dump(), ""}});
    auto refused = open_docker_archive(broken.string(), "");
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().kind == ErrorKind::protocol);
    CHECK_THAT(refused.error().message, Catch::Contains(wrong + " has digest"));
  }
  SECTION("a blobs/sha256 name that is no digest is hashed and rejected at open") {
    auto odd = std::string("blobs/sha256/not-a-digest");
    json named_odd = json::array({{{"Config", config_path}, {"Layers", {odd}}}});
    auto broken = temp.path() / "odd.tar";
    write_tar(
        broken,
        {{config_path, config, ""}, {odd, expected, ""}, {"manifest.json", named_odd.dump(), ""}});
    auto refused = open_docker_archive(broken.string(), "");
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().kind == ErrorKind::protocol);
    CHECK_THAT(refused.error().message, Catch::Contains(odd + " has digest"));
  }
}

TEST_CASE("docker archive: a compressed layer.tar is hashed for its digest", "[image]") {
  TempDir temp;
  std::string gzip_layer = "\x1f\x8b" + layer_bytes(20000, 6);
  std::string zstd_layer = "\x28\xb5\x2f\xfd" + layer_bytes(20000, 7);
  std::string plain = layer_bytes(20000, 8);
  // diff_ids name the uncompressed contents: they are not the compressed layers' digests.
  auto config = config_with(
      {sha256_digest("uncompressed 1"), sha256_digest("uncompressed 2"), sha256_digest(plain)});
  auto path = temp.path() / "app.tar";
  write_legacy(path, config, {{"gz", gzip_layer, ""}, {"zst", zstd_layer, ""}, {"tar", plain, ""}});
  auto source = open_docker_archive(path.string(), "");
  REQUIRE(source.has_value());
  const auto& blobs = (*source)->blobs();
  REQUIRE(blobs.size() == 4);
  CHECK(blobs[1].digest == sha256_digest(gzip_layer));
  CHECK(blobs[1].media_type == k_layer_gzip);
  CHECK(blobs[2].digest == sha256_digest(zstd_layer));
  CHECK(blobs[3].digest == sha256_digest(plain));
  for (std::size_t i = 1; i < blobs.size(); ++i) {
    CHECK(read_verified(**source, blobs[i]).has_value());
  }
}

TEST_CASE("docker archive: diff_ids that do not line up with the layers fall back to hashing",
          "[image]") {
  std::string first = layer_bytes(30000, 9);
  std::string second = layer_bytes(30000, 10);
  // Wrong digests that would be believed if they were used.
  auto wrong = sha256_digest("wrong");
  struct Case {
    std::string name;
    std::string config;
  };
  for (const auto& c : {
           Case{"one diff_id for two layers", config_with(json::array({wrong}))},
           Case{"three diff_ids for two layers", config_with({wrong, wrong, wrong})},
           Case{"a diff_id that is no digest", config_with({wrong, "sha256:abc"})},
           Case{"a diff_id that is no string", config_with({wrong, 7})},
           Case{"no diff_ids", R"({"architecture":"amd64","os":"linux","rootfs":{}})"},
           Case{"no rootfs", R"({"architecture":"amd64","os":"linux"})"},
       }) {
    INFO("case: " << c.name);
    TempDir temp;
    auto path = temp.path() / "app.tar";
    write_legacy(path, c.config, {{"aaa", first, ""}, {"bbb", second, ""}});
    auto source = open_docker_archive(path.string(), "");
    REQUIRE(source.has_value());
    const auto& blobs = (*source)->blobs();
    REQUIRE(blobs.size() == 3);
    CHECK(blobs[0].digest == sha256_digest(c.config));
    CHECK(blobs[1].digest == sha256_digest(first));
    CHECK(blobs[2].digest == sha256_digest(second));
  }
}

TEST_CASE("docker archive: a shared layer takes its diff_id or its hash when two disagree",
          "[image]") {
  TempDir temp;
  std::string layer = layer_bytes(40000, 11);
  auto manifest_layers = [](const ImageSource& source) {
    return json::parse(source.manifests().at(0).bytes)["layers"];
  };

  auto shared = temp.path() / "shared.tar";
  auto config = config_with({sha256_digest(layer), sha256_digest(layer)});
  write_legacy(shared, config, {{"aaa", layer, ""}, {"ccc", "", "../aaa/layer.tar"}});
  auto source = open_docker_archive(shared.string(), "");
  REQUIRE(source.has_value());
  REQUIRE((*source)->blobs().size() == 2);
  CHECK((*source)->blobs()[1].digest == sha256_digest(layer));
  auto layers = manifest_layers(**source);
  REQUIRE(layers.size() == 2);
  CHECK(layers[0] == layers[1]);

  // One file named by two different diff_ids: at most one can be right, its bytes decide.
  auto disagreeing = temp.path() / "disagreeing.tar";
  auto other = config_with({sha256_digest("something else"), sha256_digest(layer)});
  write_legacy(disagreeing, other, {{"aaa", altered(layer), ""}, {"ccc", "", "../aaa/layer.tar"}});
  source = open_docker_archive(disagreeing.string(), "");
  REQUIRE(source.has_value());
  REQUIRE((*source)->blobs().size() == 2);
  CHECK((*source)->blobs()[1].digest == sha256_digest(altered(layer)));
}

TEST_CASE("docker archive: a config that does not start with '{' is read in a second pass",
          "[image]") {
  TempDir temp;
  std::string layer = layer_bytes(30000, 12);
  // Valid JSON all the same; the catalog pass keeps only bytes that start as an object does.
  auto config = "\n " + config_with({sha256_digest(layer)});
  auto path = temp.path() / "app.tar";
  write_legacy(path, config, {{"aaa", altered(layer), ""}});
  auto source = open_docker_archive(path.string(), "");
  REQUIRE(source.has_value());
  const auto& blobs = (*source)->blobs();
  REQUIRE(blobs.size() == 2);
  CHECK(blobs[0].digest == sha256_digest(config));
  CHECK(blobs[0].size == config.size());
  CHECK(blobs[1].digest == sha256_digest(layer)); // from its diff_id
  auto read = read_verified(**source, blobs[0]);
  REQUIRE(read.has_value());
  CHECK(*read == config);
}

TEST_CASE("docker archive: a config over 16 MiB is refused", "[image]") {
  TempDir temp;
  std::string config = R"({"pad":")" + std::string((16U << 20U), 'x') + R"("})";
  auto path = temp.path() / "app.tar";
  write_legacy(path, config, {{"aaa", layer_bytes(100, 13), ""}});
  auto source = open_docker_archive(path.string(), "");
  REQUIRE_FALSE(source.has_value());
  CHECK(source.error().kind == ErrorKind::protocol);
  CHECK_THAT(source.error().message, Catch::Contains("is larger than 16 MiB"));
}
