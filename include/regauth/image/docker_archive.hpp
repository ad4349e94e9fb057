// `docker save` tarballs, read in place with libarchive: the legacy layout (`<id>/layer.tar`,
// `<hex>.json`) and Docker 25's OCI-style one (`blobs/sha256/<hex>`), both described by
// `manifest.json`. regauth pushes them as one OCI image manifest it builds from that file.
#pragma once

#include "regauth/image/image_source.hpp"
#include "regauth/result.hpp"

#include <memory>
#include <string>

namespace regauth::image {

// Opens the tarball at `path` and takes the manifest.json entry whose RepoTags holds
// `repo_tag` ("app:1"; "app" means "app:latest"), or the first entry when `repo_tag` is empty.
// Reads the archive once, skipping layer data: a layer's digest is its `blobs/sha256/<hex>` name,
// or for an uncompressed legacy layer.tar its entry in the config's `rootfs.diff_ids`; only a
// layer with neither (compressed, diff_ids that do not line up) is hashed, in a second pass.
// Those digests are checked as the bytes stream (open_verified_blob): a layer whose bytes do
// not match fails there, never at open. Layers are pushed as stored, typed
// `application/vnd.oci.image.layer.v1.tar`, or `...tar+gzip` / `...tar+zstd` by their magic
// bytes; the config (hashed at open) is typed `application/vnd.oci.image.config.v1+json`.
// Fails (not_found) for a missing file, repo tag (listing the ones there are) or a file
// manifest.json names; (protocol) for a malformed manifest.json, a config over 16 MiB or a
// `blobs/sha256/<hex>` config (or a layer named by no valid digest) with other content; (io)
// when the archive cannot be read.
Result<std::unique_ptr<ImageSource>> open_docker_archive(const std::string& path,
                                                         const std::string& repo_tag);

// libarchive's version ("3.6.2"), from archive_version_string; loads libarchive.
std::string libarchive_version();

} // namespace regauth::image
