#include "regauth/image/blob_info_cache.hpp"
#include "regauth/image/compressed_source.hpp"
#include "regauth/image/compression.hpp"
#include "regauth/image/image_source.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>
#include <zlib.h>

using regauth::ErrorKind;
using regauth::image::BlobDescriptor;
using regauth::image::Compression;
using regauth::image::Manifest;

namespace {

// Inflates a whole gzip stream (every member), or returns "" when it is not one.
std::string gunzip(const std::string& compressed) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 15 + 32) == Z_OK);
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
  auto compressor = regauth::image::make_compressor(compression, 3, threads);
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
  for (std::size_t size : {std::size_t{0}, std::size_t{100}, std::size_t{3} << 20}) {
    auto input = sample(size);
    auto one = compress(Compression::gzip, input, 1, 4096);
    auto two = compress(Compression::gzip, input, 2, 1 << 20);
    auto four = compress(Compression::gzip, input, 4, 777777);
    CHECK(one == two);
    CHECK(one == four);
    REQUIRE(one.size() > 18);
    CHECK(one.substr(0, 4) == std::string("\x1f\x8b\x08\x00", 4)); // no name, no time
    CHECK(gunzip(one) == input);
    if (size > 1000) {
      CHECK(one.size() < size / 3);
    }
  }
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
  std::map<std::string, CompressedBlob> entries = {
      {"sha256:" + std::string(64, '1') + " gzip zlib 1.2.13 3",
       CompressedBlob{"sha256:" + std::string(64, '2'), 42}}};
  auto text = regauth::image::blob_info_cache_text(entries);
  auto back = regauth::image::parse_blob_info_cache(text);
  REQUIRE(back.size() == 1);
  CHECK(back.begin()->second.digest == entries.begin()->second.digest);
  CHECK(back.begin()->second.size == 42);
  CHECK(regauth::image::parse_blob_info_cache("{not json").empty());
  CHECK(regauth::image::parse_blob_info_cache("[]").empty());
  CHECK(regauth::image::parse_blob_info_cache(
            R"({"version":1,"compressed":{"k":{"digest":"sha256:../../etc","size":1}}})")
            .empty());
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
