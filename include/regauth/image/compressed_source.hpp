// Uncompressed layers (a `docker save` tarball, an OCI layout with `...layer.v1.tar` layers) go
// out compressed, as `docker push` and skopeo send them. When the blob-info cache knows what
// every such layer compresses to, the source is wrapped so that the push treats them as any
// other blob: their digests, and so every manifest, are known up front, and a re-push can find
// the whole image in place. Otherwise the layers are compressed as they are uploaded (a chunked
// PATCH, then PUT ?digest=): a LayerCompression tells the push which ones, opens the compressed
// stream, and rewrites each manifest once the layers it lists are in. The config and its
// `diff_ids` stay as they are.
#pragma once

#include "regauth/image/blob_info_cache.hpp"
#include "regauth/image/compression.hpp"
#include "regauth/image/image_source.hpp"
#include "regauth/result.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace regauth::image {

struct CompressionSettings {
  Compression compression = Compression::gzip;
  int level = 3;
  unsigned threads = 0; // 0: one per core
};

// What became of one layer.
struct CompressedLayer {
  std::string uncompressed_digest; // the config's diff_id
  BlobDescriptor compressed;
  bool from_cache = false; // the blob-info cache knew it: nothing was compressed
};

// A layer descriptor rewritten: the compressed blob that replaces an uncompressed one.
using LayerRewrites = std::map<std::string, BlobDescriptor>; // uncompressed digest -> compressed

// `manifests` (push order: children before indexes) with every layer descriptor that
// `rewrites` names and that has an uncompressed media type replaced (media type, digest, size;
// annotations kept), and every index descriptor of a rewritten manifest updated. Manifests with
// nothing to rewrite keep their bytes. With `to_oci`, Docker (schema 2) manifests and lists
// become OCI ones (their media types and those of their descriptors), as skopeo converts an
// image it compresses with zstd. Pure. Fails (protocol) for a manifest that is not JSON.
Result<std::vector<Manifest>> rewrite_manifests(const std::vector<Manifest>& manifests,
                                                const LayerRewrites& rewrites, bool to_oci = false);

// `manifest` with every layer descriptor that `rewrites` names and that has an uncompressed
// media type replaced, and every descriptor of a manifest in `renamed` (old digest -> new
// descriptor) updated; with `to_oci`, as rewrite_manifests. When it changes, it is added to
// `renamed`. Pure. Fails (protocol) for a manifest that is not a JSON object.
Result<Manifest> rewrite_manifest(const Manifest& manifest, const LayerRewrites& rewrites,
                                  std::map<std::string, BlobDescriptor>& renamed, bool to_oci);

// The layers a push compresses as it uploads them, and the manifests rewritten as they finish.
// Thread-safe: the push's jobs call it at once.
class LayerCompression {
public:
  struct Layer {
    BlobDescriptor original;
    std::string media_type;              // the compressed blob's
    std::optional<CompressedBlob> known; // what the blob-info cache says it compresses to
    std::string cache_key;
  };

  LayerCompression(const ImageSource& source, const CompressionSettings& settings,
                   BlobInfoCache& cache, std::map<std::string, Layer> layers, bool to_oci);

  // The digests of the layers it compresses (uncompressed digests, as the source lists them).
  [[nodiscard]] std::vector<std::string> digests() const;
  // The layer `digest` names, or nullptr when it is not compressed on upload.
  [[nodiscard]] const Layer* find(const std::string& digest) const;
  // The layer's bytes compressed, read from the source and checked against its digest (the read
  // that would hand over its last bytes fails when they do not match); the same bytes every
  // time. `consumed` is told how many uncompressed bytes were read so far.
  Result<std::unique_ptr<BlobReader>> open(const Layer& layer,
                                           std::function<void(std::uint64_t)> consumed = {}) const;
  // What the layer `original` became; the blob-info cache learns it (saved by the caller).
  // Returns the compressed descriptor.
  BlobDescriptor finished(const Layer& layer, const CompressedBlob& compressed, bool cached);
  // `manifest` rewritten with the finished layers and the manifests finalized before it (its
  // children). Fails (protocol) when a layer it lists has not finished, or it is not JSON.
  Result<Manifest> finalize(const Manifest& manifest);
  [[nodiscard]] std::string_view algorithm() const { return to_string(m_settings.compression); }

private:
  const ImageSource& m_source;
  CompressionSettings m_settings;
  BlobInfoCache& m_cache;
  std::map<std::string, Layer> m_layers;
  bool m_to_oci;
  unsigned m_threads_per_layer = 1;
  std::mutex m_mutex; // guards the two maps below
  LayerRewrites m_finished;
  std::map<std::string, BlobDescriptor> m_renamed;
};

struct CompressedImage {
  std::unique_ptr<ImageSource> source;
  // Set when layers are compressed as they are uploaded; refers to `source`.
  std::unique_ptr<LayerCompression> on_upload;
};

// Makes `source`'s uncompressed layers go out compressed with `settings`, reading `cache`.
// Compresses nothing itself: when the cache knows every layer, `source` comes back wrapped with
// the compressed descriptors (and `report` lists them), else with a LayerCompression for the
// push. Returns `source` itself when it has no uncompressed layer. With zstd, an image with
// Docker (schema 2) manifests becomes OCI (Docker has no zstd layer type), as skopeo does.
// Fails (protocol) for a manifest that is not JSON.
Result<CompressedImage> compress_layers(std::unique_ptr<ImageSource> source,
                                        const CompressionSettings& settings, BlobInfoCache& cache,
                                        std::vector<CompressedLayer>& report);

} // namespace regauth::image
