#include "regauth/image/compressed_source.hpp"

#include "regauth/oci/digest.hpp"
#include "regauth/oci/media_types.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <thread>

namespace regauth::image {
namespace {

using ordered_json = nlohmann::ordered_json;

class CompressedSource final : public ImageSource {
public:
  CompressedSource(std::unique_ptr<ImageSource> inner, const CompressionSettings& settings)
      : m_inner(std::move(inner)), m_settings(settings) {}

  [[nodiscard]] const std::vector<BlobDescriptor>& blobs() const override { return m_blobs; }
  [[nodiscard]] const std::vector<Manifest>& manifests() const override { return m_manifests; }
  [[nodiscard]] std::string description() const override { return m_inner->description(); }

  [[nodiscard]] std::string blob_location(const BlobDescriptor& blob) const override {
    auto origin = m_origin.find(blob.digest);
    if (origin == m_origin.end()) {
      return m_inner->blob_location(blob);
    }
    return m_inner->blob_location(origin->second) + ", compressed with " +
           std::string(to_string(m_settings.compression));
  }

  Result<std::unique_ptr<BlobReader>> open_blob(const BlobDescriptor& blob) const override {
    auto origin = m_origin.find(blob.digest);
    if (origin == m_origin.end()) {
      return m_inner->open_blob(blob);
    }
    // Compressed as it is sent: the bytes the cache names, which the push checks against the
    // digest.
    auto reader = open_verified_blob(*m_inner, origin->second);
    if (!reader) {
      return reader.error();
    }
    auto compressor = make_compressor(m_settings.compression, m_settings.level, m_threads);
    if (!compressor) {
      return compressor.error();
    }
    return make_compressing_reader(std::move(*reader), std::move(*compressor));
  }

  std::unique_ptr<ImageSource> m_inner;
  CompressionSettings m_settings;
  unsigned m_threads = 1;
  std::vector<BlobDescriptor> m_blobs;
  std::vector<Manifest> m_manifests;
  std::map<std::string, BlobDescriptor> m_origin; // compressed digest -> the layer it compresses
};

// Threads for each of `layers` layers compressing at once: the cores shared among them (the
// bytes do not depend on it).
unsigned threads_per_layer(const CompressionSettings& settings, std::size_t layers) {
  unsigned cores =
      settings.threads != 0 ? settings.threads : std::max(1U, std::thread::hardware_concurrency());
  auto count = static_cast<unsigned>(std::clamp<std::size_t>(layers, 1, cores));
  return std::max(1U, cores / count);
}

// Docker (schema 2) media types and their OCI twins, as skopeo converts them.
const std::map<std::string, std::string>& oci_media_types() {
  static const std::map<std::string, std::string> types = {
      {"application/vnd.docker.distribution.manifest.v2+json",
       "application/vnd.oci.image.manifest.v1+json"},
      {"application/vnd.docker.distribution.manifest.list.v2+json",
       "application/vnd.oci.image.index.v1+json"},
      {"application/vnd.docker.container.image.v1+json",
       "application/vnd.oci.image.config.v1+json"},
      {"application/vnd.docker.image.rootfs.diff.tar", "application/vnd.oci.image.layer.v1.tar"},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip",
       "application/vnd.oci.image.layer.v1.tar+gzip"},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
       "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
  };
  return types;
}

// Gives a Docker manifest or manifest list, and the descriptors in it, their OCI media types.
// Returns whether anything changed.
bool convert_to_oci(ordered_json& value) {
  bool changed = false;
  auto convert = [&](ordered_json& holder) {
    if (!holder.is_object() || !holder.contains("mediaType") || !holder["mediaType"].is_string()) {
      return;
    }
    auto twin = oci_media_types().find(holder["mediaType"].get<std::string>());
    if (twin != oci_media_types().end()) {
      holder["mediaType"] = twin->second;
      changed = true;
    }
  };
  convert(value);
  if (auto config = value.find("config"); config != value.end()) {
    convert(*config);
  }
  for (const char* list : {"layers", "manifests"}) {
    if (auto entries = value.find(list); entries != value.end() && entries->is_array()) {
      for (auto& entry : *entries) {
        convert(entry);
      }
    }
  }
  return changed;
}

} // namespace

Result<Manifest> rewrite_manifest(const Manifest& manifest, const LayerRewrites& rewrites,
                                  std::map<std::string, BlobDescriptor>& renamed, bool to_oci) {
  auto value = ordered_json::parse(manifest.bytes, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    return make_error(ErrorKind::protocol, "manifest " + manifest.digest + ": malformed JSON");
  }
  bool changed = false;
  if (to_oci) {
    changed = convert_to_oci(value);
  }
  auto update = [&](ordered_json& descriptor, bool is_layer) {
    if (!descriptor.is_object() || !descriptor.contains("digest") ||
        !descriptor["digest"].is_string()) {
      return;
    }
    auto digest = descriptor["digest"].get<std::string>();
    if (is_layer) {
      auto rewrite = rewrites.find(digest);
      auto type = descriptor.value("mediaType", std::string());
      if (rewrite != rewrites.end() && is_uncompressed_layer(type)) {
        descriptor["mediaType"] = rewrite->second.media_type;
        descriptor["digest"] = rewrite->second.digest;
        descriptor["size"] = rewrite->second.size;
        changed = true;
      }
    } else if (auto child = renamed.find(digest); child != renamed.end()) {
      descriptor["digest"] = child->second.digest;
      descriptor["size"] = child->second.size;
      changed = true;
    }
  };
  auto list = value.find(manifest.is_index ? "manifests" : "layers");
  if (list != value.end() && list->is_array()) {
    for (auto& descriptor : *list) {
      update(descriptor, !manifest.is_index);
    }
  }
  if (!changed) {
    return manifest;
  }
  Manifest rewritten = manifest;
  rewritten.media_type = value.value("mediaType", manifest.media_type);
  rewritten.bytes = value.dump();
  rewritten.digest = sha256_digest(rewritten.bytes);
  renamed[manifest.digest] =
      BlobDescriptor{rewritten.digest, rewritten.bytes.size(), rewritten.media_type};
  return rewritten;
}

Result<std::vector<Manifest>> rewrite_manifests(const std::vector<Manifest>& manifests,
                                                const LayerRewrites& rewrites, bool to_oci) {
  std::vector<Manifest> out;
  std::map<std::string, BlobDescriptor> renamed;
  for (const auto& manifest : manifests) {
    auto rewritten = rewrite_manifest(manifest, rewrites, renamed, to_oci);
    if (!rewritten) {
      return rewritten.error();
    }
    out.push_back(std::move(*rewritten));
  }
  return out;
}

LayerCompression::LayerCompression(const ImageSource& source, const CompressionSettings& settings,
                                   BlobInfoCache& cache, std::map<std::string, Layer> layers,
                                   bool to_oci)
    : m_source(source), m_settings(settings), m_cache(cache), m_layers(std::move(layers)),
      m_to_oci(to_oci) {
  m_threads_per_layer = threads_per_layer(m_settings, m_layers.size());
}

std::vector<std::string> LayerCompression::digests() const {
  std::vector<std::string> out;
  for (const auto& [digest, layer] : m_layers) {
    out.push_back(digest);
  }
  return out;
}

const LayerCompression::Layer* LayerCompression::find(const std::string& digest) const {
  auto found = m_layers.find(digest);
  return found == m_layers.end() ? nullptr : &found->second;
}

namespace {

// Tells `consumed` how far a reader got.
class CountingReader final : public BlobReader {
public:
  CountingReader(std::unique_ptr<BlobReader> inner, std::function<void(std::uint64_t)> consumed)
      : m_inner(std::move(inner)), m_consumed(std::move(consumed)) {}
  Result<std::size_t> read(char* buffer, std::size_t size) override {
    auto got = m_inner->read(buffer, size);
    if (got && *got > 0) {
      m_offset += *got;
      m_consumed(m_offset);
    }
    return got;
  }

private:
  std::unique_ptr<BlobReader> m_inner;
  std::function<void(std::uint64_t)> m_consumed;
  std::uint64_t m_offset = 0;
};

} // namespace

Result<std::unique_ptr<BlobReader>>
LayerCompression::open(const Layer& layer, std::function<void(std::uint64_t)> consumed) const {
  auto reader = open_verified_blob(m_source, layer.original);
  if (!reader) {
    return reader.error();
  }
  if (consumed) {
    *reader = std::make_unique<CountingReader>(std::move(*reader), std::move(consumed));
  }
  auto compressor = make_compressor(m_settings.compression, m_settings.level, m_threads_per_layer);
  if (!compressor) {
    return compressor.error();
  }
  return make_compressing_reader(std::move(*reader), std::move(*compressor));
}

BlobDescriptor LayerCompression::finished(const Layer& layer, const CompressedBlob& compressed,
                                          bool cached) {
  BlobDescriptor out{compressed.digest, compressed.size, layer.media_type};
  if (!cached) {
    m_cache.record(layer.cache_key, compressed);
  }
  std::lock_guard lock(m_mutex);
  m_finished[layer.original.digest] = out;
  return out;
}

Result<Manifest> LayerCompression::finalize(const Manifest& manifest) {
  std::lock_guard lock(m_mutex);
  if (!manifest.is_index) {
    auto references = ordered_json::parse(manifest.bytes, nullptr, false);
    if (references.is_object() && references.contains("layers") &&
        references["layers"].is_array()) {
      for (const auto& descriptor : references["layers"]) {
        auto digest = descriptor.is_object() ? descriptor.value("digest", std::string()) : "";
        if (m_layers.count(digest) != 0 && m_finished.count(digest) == 0) {
          return make_error(ErrorKind::protocol, "manifest " + manifest.digest + ": layer " +
                                                     digest + " has not been compressed yet");
        }
      }
    }
  }
  return rewrite_manifest(manifest, m_finished, m_renamed, m_to_oci);
}

Result<CompressedImage> compress_layers(std::unique_ptr<ImageSource> source,
                                        const CompressionSettings& settings, BlobInfoCache& cache,
                                        std::vector<CompressedLayer>& report) {
  CompressedImage image;
  if (settings.compression == Compression::none) {
    image.source = std::move(source);
    return image;
  }
  // Docker manifests have no zstd layer type: with zstd the image becomes OCI, as skopeo's
  // `copy --dest-compress-format zstd` makes it.
  bool to_oci = false;
  for (const auto& manifest : source->manifests()) {
    to_oci = to_oci || (settings.compression == Compression::zstd &&
                        is_docker_media_type(manifest.media_type));
  }
  auto version = compressor_version(settings.compression);
  std::map<std::string, LayerCompression::Layer> layers;
  bool all_known = true;
  for (const auto& blob : source->blobs()) {
    if (!is_uncompressed_layer(blob.media_type)) {
      continue;
    }
    LayerCompression::Layer layer;
    layer.original = blob;
    layer.media_type = compressed_layer_type(blob.media_type, settings.compression);
    if (layer.media_type.empty()) { // a Docker layer with zstd: the image becomes OCI
      layer.media_type = compressed_layer_type(oci::k_layer_tar, settings.compression);
    }
    layer.cache_key =
        blob_info_key(blob.digest, to_string(settings.compression), version, settings.level);
    layer.known = cache.find(layer.cache_key);
    all_known = all_known && layer.known.has_value();
    layers.emplace(blob.digest, std::move(layer));
  }
  if (layers.empty()) {
    image.source = std::move(source);
    return image;
  }
  if (!all_known) {
    const ImageSource& inner = *source;
    image.source = std::move(source);
    image.on_upload =
        std::make_unique<LayerCompression>(inner, settings, cache, std::move(layers), to_oci);
    return image;
  }

  // Every layer is known: the compressed descriptors, and so the manifests, are known up front.
  auto wrapped = std::make_unique<CompressedSource>(std::move(source), settings);
  wrapped->m_threads = threads_per_layer(settings, layers.size());
  LayerRewrites rewrites;
  for (const auto& [digest, layer] : layers) {
    BlobDescriptor compressed{layer.known->digest, layer.known->size, layer.media_type};
    rewrites[digest] = compressed;
    wrapped->m_origin[compressed.digest] = layer.original;
  }
  std::set<std::string> listed;
  for (const auto& blob : wrapped->m_inner->blobs()) {
    auto rewrite = rewrites.find(blob.digest);
    const auto& out = rewrite != rewrites.end() && is_uncompressed_layer(blob.media_type)
                          ? rewrite->second
                          : blob;
    if (listed.insert(out.digest).second) {
      wrapped->m_blobs.push_back(out);
    }
    if (rewrite != rewrites.end()) {
      report.push_back(CompressedLayer{blob.digest, rewrite->second, true});
    }
  }
  auto manifests = rewrite_manifests(wrapped->m_inner->manifests(), rewrites, to_oci);
  if (!manifests) {
    return manifests.error();
  }
  wrapped->m_manifests = std::move(*manifests);
  image.source = std::move(wrapped);
  return image;
}

} // namespace regauth::image
