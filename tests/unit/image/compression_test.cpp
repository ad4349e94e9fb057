#include "regauth/image/blob_info_cache.hpp"
#include "regauth/image/compressed_source.hpp"
#include "regauth/image/compression.hpp"
#include "regauth/image/image_source.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>
#include <zlib.h>

using regauth::ErrorKind;
using regauth::image::BlobDescriptor;
using regauth::image::Compression;
using regauth::image::Manifest;

namespace {

// Inflates a gzip stream of one member (windowBits 31: gzip only, its CRC-32 and length
// checked), or returns "" when it is not one or when bytes follow the first member.
std::string gunzip(const std::string& compressed) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 31) == Z_OK);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    char buffer[65536];
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      inflateEnd(&stream);
      return "";
    }
    out.append(buffer, sizeof buffer - stream.avail_out);
  }
  bool whole = stream.avail_in == 0; // one member, nothing after it
  inflateEnd(&stream);
  return whole ? out : "";
}

// For each chunk boundary of a gzip stream (every k_chunk bytes of output), the number of
// unused bits in the last byte of the chunk's last compressed block: where a joined chunk's
// former final block ends. Found with zlib's Z_BLOCK, which stops at each block boundary.
std::vector<unsigned> unused_bits_at_chunk_ends(const std::string& compressed, std::size_t size) {
  constexpr std::size_t k_chunk = 1024U * 1024U;
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 31) == Z_OK);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out(size, '\0');
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  std::vector<unsigned> found;
  int status = Z_OK;
  while (status == Z_OK) {
    status = inflate(&stream, Z_BLOCK);
    bool boundary = (stream.data_type & 128) != 0;
    // The first boundary at each multiple of k_chunk: before the empty stored block.
    if (status == Z_OK && boundary && stream.total_out > 0 && stream.total_out % k_chunk == 0 &&
        found.size() < stream.total_out / k_chunk) {
      found.push_back(static_cast<unsigned>(stream.data_type & 7));
    }
  }
  inflateEnd(&stream);
  REQUIRE(status == Z_STREAM_END);
  return found;
}

// `size` bytes that do not compress.
std::string random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) {
    byte = static_cast<char>(generator() & 0xffU);
  }
  return bytes;
}

std::string sample(std::size_t size) {
  std::string text;
  for (std::size_t i = 0; text.size() < size; ++i) {
    text += "line " + std::to_string(i * 7919 % 100003) + " of a file in a layer\n";
  }
  text.resize(size);
  return text;
}

std::string compress(Compression compression, const std::string& input, unsigned threads,
                     std::size_t piece) {
  auto compressor = regauth::image::make_compressor(
      compression, regauth::image::default_level(compression), threads);
  REQUIRE(compressor);
  std::string out;
  for (std::size_t at = 0; at < input.size(); at += piece) {
    REQUIRE((*compressor)->write(std::string_view(input).substr(at, piece), out));
  }
  REQUIRE((*compressor)->finish(out));
  return out;
}

Manifest manifest_of(const nlohmann::ordered_json& value, bool is_index = false) {
  auto bytes = value.dump();
  return Manifest{value["mediaType"].get<std::string>(), regauth::image::sha256_digest(bytes),
                  bytes, is_index};
}

} // namespace

TEST_CASE("compression: gzip is one member that inflates to the input, the same bytes on any "
          "number of threads",
          "[image][compression]") {
  constexpr std::size_t k_mib = 1024U * 1024U;
  struct Case {
    const char* name;
    std::string input;
  };
  std::vector<Case> cases = {
      {"empty", ""},
      {"one byte", "x"},
      {"100 bytes", sample(100)},
      {"exactly one chunk", sample(k_mib)},
      {"one chunk and a byte", sample(k_mib + 1)},
      {"several chunks of text", sample(3 * k_mib + 12345)},
      {"several chunks of random bytes", random_bytes(2 * k_mib + 777, 1)},
      {"exactly two chunks of random bytes", random_bytes(2 * k_mib, 2)},
  };
  for (const auto& [name, input] : cases) {
    INFO(name);
    auto one = compress(Compression::gzip, input, 1, 4096);
    CHECK(one == compress(Compression::gzip, input, 2, 1 << 20));
    CHECK(one == compress(Compression::gzip, input, 3, 777777));
    CHECK(one == compress(Compression::gzip, input, 3, 5 * k_mib)); // several chunks per write
    REQUIRE(one.size() > 18);
    CHECK(one.substr(0, 4) == std::string("\x1f\x8b\x08\x00", 4)); // no name, no time
    CHECK(gunzip(one) == input);                                   // one member: nothing after it
    if (name == std::string("several chunks of text")) {
      CHECK(one.size() < input.size() / 3);
    }
  }
}

TEST_CASE("compression: gzip joins chunks whose last block ends at every bit of a byte",
          "[image][compression]") {
  // Two chunks: the first (1 MiB) is joined to the second, so its former final block ends at
  // some bit of its last byte; text of varying words moves that bit. Each unused-bit count
  // 0-7 needs its own padding (with fewer than 3 unused bits the stored block's header takes
  // a byte of its own), and each must inflate to the input.
  constexpr std::size_t k_mib = 1024U * 1024U;
  std::set<unsigned> seen;
  auto input = sample(k_mib + 100);
  int rounds = 0;
  for (; rounds < 100 && seen.size() < 8; ++rounds) {
    // One more byte changed near the end of the first chunk each round: its last block grows.
    input[k_mib - 1 - static_cast<std::size_t>(rounds) * 61U] =
        static_cast<char>('A' + rounds % 26);
    auto out = compress(Compression::gzip, input, 2, 256U * 1024U);
    REQUIRE(gunzip(out) == input);
    auto unused = unused_bits_at_chunk_ends(out, input.size());
    REQUIRE(unused.size() == 1);
    seen.insert(unused[0]);
  }
  INFO("rounds: " << rounds);
  CHECK(seen == std::set<unsigned>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("compression: gzip at an unknown libdeflate level fails as an io error",
          "[image][compression]") {
  auto compressor = regauth::image::make_compressor(Compression::gzip, 13);
  REQUIRE(compressor);
  std::string out;
  auto written = (*compressor)->finish(out);
  REQUIRE(!written);
  CHECK(written.error().kind == ErrorKind::io);
  CHECK(written.error().message ==
        "gzip: cannot start libdeflate at level 13 (levels 0 to 12; or out of memory)");
}

TEST_CASE("compression: the gzip library version names libdeflate and its build",
          "[image][compression]") {
  auto version = regauth::image::compressor_version(Compression::gzip);
  CHECK(version.rfind("libdeflate 1.", 0) == 0);
  CHECK(version.find(" (build-id ") != std::string::npos);
  auto libraries = regauth::image::compression_library_versions();
  REQUIRE(libraries.size() == 3);
  CHECK(libraries[0].first == "zlib");
  CHECK(libraries[0].second == zlibVersion());
  CHECK("libdeflate " + libraries[1].second == version);
  CHECK(libraries[2].first == "libzstd");
}

TEST_CASE("compression: zstd writes a frame with the zstd magic", "[image][compression]") {
  auto out = compress(Compression::zstd, sample(200000), 1, 8192);
  CHECK(out.substr(0, 4) == std::string("\x28\xb5\x2f\xfd", 4));
  CHECK(out.size() < 200000 / 3);
}

TEST_CASE("compression: names and media types in both flavours", "[image][compression]") {
  CHECK(*regauth::image::parse_compression("zstd") == Compression::zstd);
  auto bad = regauth::image::parse_compression("lz4");
  REQUIRE(!bad);
  CHECK(bad.error().kind == ErrorKind::usage);
  CHECK(bad.error().message == "--compression \"lz4\": expected gzip, zstd or none");
  using regauth::image::compressed_layer_type;
  CHECK(compressed_layer_type("application/vnd.oci.image.layer.v1.tar", Compression::gzip) ==
        "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(compressed_layer_type("application/vnd.oci.image.layer.v1.tar", Compression::zstd) ==
        "application/vnd.oci.image.layer.v1.tar+zstd");
  CHECK(compressed_layer_type("application/vnd.docker.image.rootfs.diff.tar", Compression::gzip) ==
        "application/vnd.docker.image.rootfs.diff.tar.gzip");
  CHECK(compressed_layer_type("application/vnd.docker.image.rootfs.diff.tar", Compression::zstd)
            .empty());
  CHECK(!regauth::image::is_uncompressed_layer("application/vnd.oci.image.layer.v1.tar+gzip"));
}

TEST_CASE("compression: rewriting replaces uncompressed layers and the index entries of the "
          "manifests that changed",
          "[image][compression]") {
  std::string tar_digest = "sha256:" + std::string(64, 'a');
  std::string gzip_digest = "sha256:" + std::string(64, 'b');
  std::string other = "sha256:" + std::string(64, 'c');
  nlohmann::ordered_json image = {{"schemaVersion", 2},
                                  {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                  {"config",
                                   {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                    {"digest", other},
                                    {"size", 10}}},
                                  {"layers",
                                   {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                     {"digest", tar_digest},
                                     {"size", 1000},
                                     {"annotations", {{"k", "v"}}}},
                                    {{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                                     {"digest", other},
                                     {"size", 5}}}}};
  nlohmann::ordered_json untouched = image;
  untouched["layers"] = nlohmann::ordered_json::array();
  auto first = manifest_of(image);
  auto second = manifest_of(untouched);
  nlohmann::ordered_json index = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests",
       {{{"mediaType", first.media_type}, {"digest", first.digest}, {"size", first.bytes.size()}},
        {{"mediaType", second.media_type},
         {"digest", second.digest},
         {"size", second.bytes.size()}}}}};
  auto top = manifest_of(index, true);
  regauth::image::LayerRewrites rewrites;
  rewrites[tar_digest] =
      BlobDescriptor{gzip_digest, 400, "application/vnd.oci.image.layer.v1.tar+gzip"};
  auto out = regauth::image::rewrite_manifests({first, second, top}, rewrites);
  REQUIRE(out);
  REQUIRE(out->size() == 3);
  auto rewritten = nlohmann::json::parse((*out)[0].bytes);
  CHECK(rewritten["layers"][0] ==
        nlohmann::json{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                       {"digest", gzip_digest},
                       {"size", 400},
                       {"annotations", {{"k", "v"}}}});
  CHECK(rewritten["layers"][1]["digest"] == other);
  CHECK(rewritten["config"] == nlohmann::json::parse(first.bytes)["config"]);
  CHECK((*out)[0].digest == regauth::image::sha256_digest((*out)[0].bytes));
  CHECK((*out)[1].bytes == second.bytes); // nothing to rewrite: the same bytes
  auto new_index = nlohmann::json::parse((*out)[2].bytes);
  CHECK(new_index["manifests"][0]["digest"] == (*out)[0].digest);
  CHECK(new_index["manifests"][0]["size"] == (*out)[0].bytes.size());
  CHECK(new_index["manifests"][1]["digest"] == second.digest);
  CHECK((*out)[2].is_index);
}

TEST_CASE("blob-info cache: entries round-trip; corrupt text and bad digests are ignored",
          "[image][compression]") {
  using regauth::image::CompressedBlob;
  regauth::image::BlobInfo info;
  info.compressed = {{"sha256:" + std::string(64, '1') + " gzip zlib 1.2.13 3",
                      CompressedBlob{"sha256:" + std::string(64, '2'), 42}}};
  info.locations = {regauth::image::manifest_location("localhost:5000", "team/app",
                                                      "sha256:" + std::string(64, '3'))};
  auto text = regauth::image::blob_info_cache_text(info);
  auto back = regauth::image::parse_blob_info_cache(text);
  REQUIRE(back.compressed.size() == 1);
  CHECK(back.compressed.begin()->second.digest == info.compressed.begin()->second.digest);
  CHECK(back.compressed.begin()->second.size == 42);
  CHECK(back.locations ==
        std::vector<std::string>{"localhost:5000/team/app@sha256:" + std::string(64, '3')});
  CHECK(regauth::image::parse_blob_info_cache("{not json").compressed.empty());
  CHECK(regauth::image::parse_blob_info_cache("[]").compressed.empty());
  CHECK(regauth::image::parse_blob_info_cache(
            R"({"version":1,"compressed":{"k":{"digest":"sha256:../../etc","size":1}}})")
            .compressed.empty());
  auto bad_locations = regauth::image::parse_blob_info_cache(
      R"({"version":1,"locations":["r/x@sha256:../../etc", 7, "@sha256:)" + std::string(64, 'a') +
      R"(", "r/y@sha256:)" + std::string(64, 'a') + R"("]})");
  CHECK(bad_locations.locations == std::vector<std::string>{"r/y@sha256:" + std::string(64, 'a')});
}

TEST_CASE("blob-info cache: registries round-trip; a base that is not the host's origin is "
          "dropped",
          "[image][compression]") {
  regauth::image::BlobInfo info;
  info.registries["r.example:5000"] = {"https://r.example:5000", "basic realm=\"x\""};
  info.registries["local:1"] = {"http://local:1", ""};
  auto back = regauth::image::parse_blob_info_cache(regauth::image::blob_info_cache_text(info));
  CHECK(back.registries == info.registries);
  auto hostile = regauth::image::parse_blob_info_cache(
      R"({"version":1,"registries":{"r.example":{"base":"https://evil.example","challenge":""},)"
      R"("s.example":{"base":"https://s.example/path","challenge":""},)"
      R"("t.example":{"base":"https://t.example","challenge":7},)"
      R"("u.example":{"base":"https://u.example","challenge":"basic"}}})");
  REQUIRE(hostile.registries.size() == 1);
  CHECK(hostile.registries.begin()->first == "u.example");
}

TEST_CASE("blob-info cache: the newest 2000 locations are kept", "[image][compression]") {
  regauth::image::BlobInfo info;
  for (int i = 0; i < 2005; ++i) {
    auto hex = std::to_string(i);
    info.locations.push_back("r/app" + hex + "@sha256:" + std::string(64, 'b'));
  }
  auto back = regauth::image::parse_blob_info_cache(regauth::image::blob_info_cache_text(info));
  REQUIRE(back.locations.size() == 2000);
  CHECK(back.locations.front() == info.locations[5]);
  CHECK(back.locations.back() == info.locations.back());
}

TEST_CASE("blob-info cache: saved with mode 0600, found again by a new cache, a corrupt file is "
          "replaced",
          "[image][compression]") {
  auto folder =
      std::filesystem::temp_directory_path() / ("regauth-cache-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(folder);
  auto path = (folder / "regauth" / "blob-info.json").string();
  std::filesystem::create_directories(folder / "regauth");
  std::ofstream(path) << "garbage";
  {
    regauth::image::BlobInfoCache cache(path);
    CHECK(!cache.find("key"));
    cache.record("key", {"sha256:" + std::string(64, 'd'), 7});
    cache.save();
  }
  auto status = std::filesystem::status(path);
  CHECK((status.permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  regauth::image::BlobInfoCache again(path);
  auto found = again.find("key");
  REQUIRE(found);
  CHECK(found->size == 7);
  const std::string location = "r/app@sha256:" + std::string(64, 'e');
  CHECK(!again.knows_location(location));
  again.record_location(location);
  CHECK(again.knows_location(location));
  again.save();
  regauth::image::BlobInfoCache third(path);
  CHECK(third.knows_location(location));
  CHECK(third.find("key")); // the compressed entries were kept beside it
  std::filesystem::remove_all(folder);
}

TEST_CASE("compression: with zstd a Docker manifest and its list become OCI",
          "[image][compression]") {
  std::string tar_digest = "sha256:" + std::string(64, 'a');
  std::string zstd_digest = "sha256:" + std::string(64, 'b');
  nlohmann::ordered_json image = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
      {"config",
       {{"mediaType", "application/vnd.docker.container.image.v1+json"},
        {"digest", tar_digest},
        {"size", 10}}},
      {"layers",
       {{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar"},
         {"digest", tar_digest},
         {"size", 1000}}}}};
  auto first = manifest_of(image);
  nlohmann::ordered_json list = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.docker.distribution.manifest.list.v2+json"},
      {"manifests",
       {{{"mediaType", first.media_type},
         {"digest", first.digest},
         {"size", first.bytes.size()}}}}};
  regauth::image::LayerRewrites rewrites;
  rewrites[tar_digest] =
      BlobDescriptor{zstd_digest, 300, "application/vnd.oci.image.layer.v1.tar+zstd"};
  auto out = regauth::image::rewrite_manifests({first, manifest_of(list, true)}, rewrites, true);
  REQUIRE(out);
  CHECK((*out)[0].media_type == "application/vnd.oci.image.manifest.v1+json");
  auto rewritten = nlohmann::json::parse((*out)[0].bytes);
  CHECK(rewritten["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(rewritten["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json");
  CHECK(rewritten["config"]["digest"] == tar_digest);
  CHECK(rewritten["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd");
  CHECK(rewritten["layers"][0]["digest"] == zstd_digest);
  CHECK((*out)[1].media_type == "application/vnd.oci.image.index.v1+json");
  auto index = nlohmann::json::parse((*out)[1].bytes);
  CHECK(index["manifests"][0]["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(index["manifests"][0]["digest"] == (*out)[0].digest);
}
