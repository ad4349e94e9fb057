// OCI image layout folders (opencontainers/image-spec image-layout.md): an `oci-layout` file,
// `index.json` and `blobs/<algorithm>/<hex>`. Manifests are read and verified when the folder
// is opened; blobs are only checked for presence and size, and stream later.
#pragma once

#include "regauth/image/image_source.hpp"
#include "regauth/result.hpp"

#include <memory>
#include <string>

namespace regauth::image {

// Opens the layout in `directory` and selects the manifest of index.json whose
// `org.opencontainers.image.ref.name` annotation equals `tag`. With `tag` empty, or when no
// annotation matches and index.json holds one unnamed manifest, that only manifest is taken.
// An image index is pushed with all its child manifests and their blobs, children first.
// Every digest is validated before it becomes a path. Fails (not_found) for a missing folder,
// `oci-layout`, tag (listing the tags there are) or blob; (protocol) for malformed JSON, bad
// digests, ambiguous tags, unsupported media types, a manifest whose bytes do not match its
// digest or a blob whose size differs from its descriptor; (io) for read errors.
Result<std::unique_ptr<ImageSource>> open_oci_layout(const std::string& directory,
                                                     const std::string& tag);

} // namespace regauth::image
