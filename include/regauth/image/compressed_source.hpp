// An image source whose uncompressed layers go out compressed: the layers are compressed (or
// found in the blob-info cache) before the push begins, so that every digest and every manifest
// is known up front and the push itself treats them as any other blob. The config and its
// `diff_ids` stay as they are; the manifests that list a compressed layer, and the indexes that
// list those manifests, are rewritten with the compressed descriptors.
#pragma once

#include "regauth/image/blob_info_cache.hpp"
#include "regauth/image/compression.hpp"
#include "regauth/image/image_source.hpp"
#include "regauth/result.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace regauth::image {

struct CompressionSettings {
  Compression compression = Compression::gzip;
  int level = 3;
  // Compressed bytes kept in memory, all layers together; a layer beyond it is compressed again
  // as it is uploaded (same bytes), never spooled to disk.
  std::uint64_t memory_budget = 256ULL << 20;
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

// Wraps `source` so that its uncompressed layers go out compressed with `settings`, reading
// and updating `cache`. Returns `source` itself when it has no uncompressed layer. Compresses
// on parallel threads, each layer streamed from the source (its bytes checked against its
// digest). With zstd, an image with Docker (schema 2) manifests becomes OCI (Docker has no zstd
// layer type), as skopeo does. Fails (io, protocol) as reading the source does.
Result<std::unique_ptr<ImageSource>> compress_layers(std::unique_ptr<ImageSource> source,
                                                     const CompressionSettings& settings,
                                                     BlobInfoCache& cache,
                                                     std::vector<CompressedLayer>& report);

} // namespace regauth::image
