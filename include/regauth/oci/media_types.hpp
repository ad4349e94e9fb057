// The media types of OCI and Docker manifests, indexes, configs and layers that regauth reads
// and pushes (image-spec media-types.md; distribution's manifest v2 schema 2).
#pragma once

#include <string_view>

namespace regauth::oci {

constexpr std::string_view k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view k_oci_index = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view k_oci_config = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view k_layer_tar = "application/vnd.oci.image.layer.v1.tar";
constexpr std::string_view k_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr std::string_view k_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
constexpr std::string_view k_docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view k_docker_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view k_docker_layer_tar = "application/vnd.docker.image.rootfs.diff.tar";
constexpr std::string_view k_docker_layer_gzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";

} // namespace regauth::oci
