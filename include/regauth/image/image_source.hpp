// Images to push, read from an OCI image layout folder or a `docker save` tarball without
// unpacking it: the blobs (config and layers) and the manifests (children before any index).
// Digests are validated before they are used in a path or URL.
#pragma once

#include "regauth/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace regauth::image {

// A stream of one blob's bytes.
class BlobReader {
public:
  virtual ~BlobReader() = default;
  // Reads up to `size` bytes into `buffer`; returns 0 at the end. Fails (io) on read errors.
  virtual Result<std::size_t> read(char* buffer, std::size_t size) = 0;
};

struct BlobDescriptor {
  std::string digest; // "sha256:<hex>", validated
  std::uint64_t size = 0;
  std::string media_type;
};

struct Manifest {
  std::string media_type; // the manifest's own media type: Content-Type of the PUT
  std::string digest;     // "sha256:" + sha256 of `bytes`
  std::string bytes;      // pushed exactly as is
  bool is_index = false;
};

class ImageSource {
public:
  virtual ~ImageSource() = default;
  // Every blob every manifest references, each digest once, config before layers.
  [[nodiscard]] virtual const std::vector<BlobDescriptor>& blobs() const = 0;
  // Manifests in push order: image manifests first, then the index that lists them (if any).
  // The last one is pushed under the tag.
  [[nodiscard]] virtual const std::vector<Manifest>& manifests() const = 0;
  // Opens a blob for streaming. Fails (not_found) when the source lacks it.
  virtual Result<std::unique_ptr<BlobReader>> open_blob(const BlobDescriptor& blob) const = 0;
  // "oci:/path:tag" or "docker-archive:/path.tar", for messages.
  [[nodiscard]] virtual std::string description() const = 0;
  // Where the blob's bytes are read from, for messages: a file, or a member of an archive.
  [[nodiscard]] virtual std::string blob_location(const BlobDescriptor& blob) const {
    return description() + ": " + blob.digest;
  }
};

// Opens a blob as open_blob does, through a reader that hashes every byte it hands over and
// stops at the blob's size: the read that would hand over the last bytes fails (protocol)
// instead when the bytes do not match the digest, so a request streaming them never completes
// with bad bytes; a source that ends early fails (io). A blob of size 0 is checked at once.
Result<std::unique_ptr<BlobReader>> open_verified_blob(const ImageSource& source,
                                                       const BlobDescriptor& blob);

// Opens SOURCE as the push command takes it: "oci:DIR[:TAG]", "docker-archive:FILE", a plain
// directory (an OCI layout), or a path ending in ".tar" (a docker-archive). For an OCI layout the
// manifest is the one whose `org.opencontainers.image.ref.name` annotation equals TAG, or the
// only one when there is one. Fails (usage) for an unknown form, (not_found) for a missing path
// or tag, (protocol) for malformed JSON or digests in the source.
Result<std::unique_ptr<ImageSource>> open_image_source(const std::string& source);

// "sha256:" + lower-case hex SHA-256 of `bytes`.
std::string sha256_digest(std::string_view bytes);

} // namespace regauth::image
