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
// Streams the archive once to hash every layer; layers are pushed as stored, typed
// `application/vnd.oci.image.layer.v1.tar`, or `...tar+gzip` / `...tar+zstd` by their magic
// bytes; the config is typed `application/vnd.oci.image.config.v1+json`. Fails (not_found)
// for a missing file, repo tag (listing the ones there are) or a file manifest.json names;
// (protocol) for a malformed manifest.json or a `blobs/sha256/<hex>` file with other content;
// (io) when the archive cannot be read.
Result<std::unique_ptr<ImageSource>> open_docker_archive(const std::string& path,
                                                         const std::string& repo_tag);

// libarchive's version ("3.6.2"), from archive_version_string; loads libarchive.
std::string libarchive_version();

} // namespace regauth::image
