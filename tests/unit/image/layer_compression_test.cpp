#include "regauth/image/compressed_source.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <string>
#include <vector>
#include <zlib.h>

using regauth::Result;
using regauth::image::BlobDescriptor;
using regauth::image::BlobInfoCache;
using regauth::image::BlobReader;
using regauth::image::compress_layers;
using regauth::image::CompressedBlob;
using regauth::image::CompressedLayer;
using regauth::image::Compression;
using regauth::image::CompressionSettings;
using regauth::image::ImageSource;
using regauth::image::LayerCompression;
using regauth::image::Manifest;
using regauth::image::sha256_digest;

namespace {

constexpr std::string_view k_tar = "application/vnd.oci.image.layer.v1.tar";
constexpr std::string_view k_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";

class StringReader final : public BlobReader {
public:
  explicit StringReader(std::string bytes) : m_bytes(std::move(bytes)) {}
  Result<std::size_t> read(char* buffer, std::size_t size) override {
    auto n = std::min(size, m_bytes.size() - m_offset);
    std::memcpy(buffer, m_bytes.data() + m_offset, n);
    m_offset += n;
    return n;
  }

private:
  std::string m_bytes;
  std::size_t m_offset = 0;
};

// An image in memory: a config and uncompressed layers, one manifest, and an index over it.
class MemorySource final : public ImageSource {
public:
  explicit MemorySource(const std::vector<std::string>& layers) {
    std::string config = R"({"rootfs":{"type":"layers"}})";
    add("application/vnd.oci.image.config.v1+json", config);
    nlohmann::ordered_json manifest = {{"schemaVersion", 2},
                                       {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                       {"config", descriptor(m_blobs.front())},
                                       {"layers", nlohmann::ordered_json::array()}};
    for (const auto& layer : layers) {
      manifest["layers"].push_back(descriptor(add(std::string(k_tar), layer)));
    }
    auto bytes = manifest.dump();
    m_manifests.push_back(
        {"application/vnd.oci.image.manifest.v1+json", sha256_digest(bytes), bytes, false});
    nlohmann::ordered_json index = {{"schemaVersion", 2},
                                    {"mediaType", "application/vnd.oci.image.index.v1+json"},
                                    {"manifests",
                                     {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                       {"digest", m_manifests[0].digest},
                                       {"size", bytes.size()}}}}};
    auto index_bytes = index.dump();
    m_manifests.push_back(
        {"application/vnd.oci.image.index.v1+json", sha256_digest(index_bytes), index_bytes, true});
  }

  [[nodiscard]] const std::vector<BlobDescriptor>& blobs() const override { return m_blobs; }
  [[nodiscard]] const std::vector<Manifest>& manifests() const override { return m_manifests; }
  Result<std::unique_ptr<BlobReader>> open_blob(const BlobDescriptor& blob) const override {
    return std::unique_ptr<BlobReader>(std::make_unique<StringReader>(m_bytes.at(blob.digest)));
  }
  [[nodiscard]] std::string description() const override { return "memory"; }
  // Changes the last byte of a blob, not its descriptor.
  void corrupt(const std::string& digest) { m_bytes.at(digest).back() ^= 0x20; }

private:
  static nlohmann::ordered_json descriptor(const BlobDescriptor& blob) {
    return {{"mediaType", blob.media_type}, {"digest", blob.digest}, {"size", blob.size}};
  }
  const BlobDescriptor& add(const std::string& media_type, const std::string& bytes) {
    m_blobs.push_back({sha256_digest(bytes), bytes.size(), media_type});
    m_bytes[m_blobs.back().digest] = bytes;
    return m_blobs.back();
  }

  std::vector<BlobDescriptor> m_blobs;
  std::vector<Manifest> m_manifests;
  std::map<std::string, std::string> m_bytes;
};

std::string read_all(BlobReader& reader) {
  std::string out;
  char buffer[4096];
  for (;;) {
    auto got = reader.read(buffer, sizeof buffer);
    REQUIRE(got);
    if (*got == 0) {
      return out;
    }
    out.append(buffer, *got);
  }
}

std::string gunzip(const std::string& data) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 31) == Z_OK);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int status = inflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  REQUIRE(status == Z_STREAM_END);
  return out;
}

CompressionSettings gzip_settings() {
  CompressionSettings settings;
  settings.compression = Compression::gzip;
  settings.level = 3;
  settings.threads = 2;
  return settings;
}

} // namespace

TEST_CASE("layer compression: layers the cache does not know are compressed on upload, and the "
          "manifests are rewritten once they are in",
          "[image][compression]") {
  std::string first(300000, 'a');
  std::string second = "a small layer";
  auto source = std::make_unique<MemorySource>(std::vector<std::string>{first, second});
  const auto original = source->manifests();
  BlobInfoCache cache("");
  std::vector<CompressedLayer> report;
  auto image = compress_layers(std::move(source), gzip_settings(), cache, report);
  REQUIRE(image);
  REQUIRE(image->on_upload);
  CHECK(report.empty());
  auto& compression = *image->on_upload;
  CHECK(compression.digests().size() == 2);
  // The source is the original: the push sees the uncompressed descriptors.
  CHECK(image->source->manifests()[0].bytes == original[0].bytes);

  // Not finished: the manifest cannot be put yet.
  auto early = compression.finalize(original[0]);
  REQUIRE_FALSE(early);
  CHECK(early.error().message.find("has not been compressed yet") != std::string::npos);

  std::map<std::string, BlobDescriptor> compressed;
  for (const auto& digest : compression.digests()) {
    const auto* layer = compression.find(digest);
    REQUIRE(layer != nullptr);
    std::uint64_t consumed = 0;
    auto reader = compression.open(*layer, [&](std::uint64_t n) { consumed = n; });
    REQUIRE(reader);
    auto bytes = read_all(**reader);
    CHECK(consumed == layer->original.size);
    CHECK(sha256_digest(gunzip(bytes)) == digest);
    compressed[digest] =
        compression.finished(*layer, CompressedBlob{sha256_digest(bytes), bytes.size()}, false);
    CHECK(compressed[digest].media_type == k_gzip);
  }
  auto manifest = compression.finalize(original[0]);
  REQUIRE(manifest);
  auto layers = nlohmann::json::parse(manifest->bytes)["layers"];
  REQUIRE(layers.size() == 2);
  for (const auto& layer : layers) {
    CHECK(layer["mediaType"] == k_gzip);
    bool listed = false;
    for (const auto& [digest, descriptor] : compressed) {
      listed = listed || (layer["digest"] == descriptor.digest && layer["size"] == descriptor.size);
    }
    CHECK(listed);
  }
  CHECK(manifest->digest == sha256_digest(manifest->bytes));
  // The index names the rewritten manifest.
  auto index = compression.finalize(original[1]);
  REQUIRE(index);
  auto child = nlohmann::json::parse(index->bytes)["manifests"][0];
  CHECK(child["digest"] == manifest->digest);
  CHECK(child["size"] == manifest->bytes.size());
}

TEST_CASE("layer compression: a layer whose bytes do not match its digest fails the read that "
          "would end the compressed stream",
          "[image][compression]") {
  auto source = std::make_unique<MemorySource>(std::vector<std::string>{"layer bytes"});
  BlobInfoCache cache("");
  std::vector<CompressedLayer> report;
  auto image = compress_layers(std::move(source), gzip_settings(), cache, report);
  REQUIRE(image);
  REQUIRE(image->on_upload);
  const auto& layer = *image->on_upload->find(image->on_upload->digests().at(0));
  static_cast<MemorySource&>(*image->source).corrupt(layer.original.digest);
  auto reader = image->on_upload->open(layer);
  REQUIRE(reader);
  char buffer[4096];
  Result<std::size_t> got = std::size_t{0};
  for (int i = 0; i < 10; ++i) {
    got = (*reader)->read(buffer, sizeof buffer);
    if (!got || *got == 0) {
      break;
    }
  }
  REQUIRE_FALSE(got);
  CHECK(got.error().message.find("does not match its digest") != std::string::npos);
}
