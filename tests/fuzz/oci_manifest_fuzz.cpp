// OCI/Docker manifests and indexes: the bytes become a manifest blob (named by its digest) that
// index.json points at, in a layout in a temp dir. Whatever is accepted references only valid
// digests, and the pushed manifest bytes are exactly the input.
#include "regauth/image/image_source.hpp"
#include "regauth/image/oci_layout.hpp"
#include "regauth/oci/digest.hpp"

#include "fuzz_check.hpp"
#include "fuzz_layout.hpp"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace {

std::filesystem::path layout_dir() {
  static const std::filesystem::path dir = make_fuzz_layout("regauth-fuzz-manifest");
  return dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto dir = layout_dir();
  std::string digest = regauth::image::sha256_digest(bytes);
  std::filesystem::path blob = dir / "blobs" / "sha256" / digest.substr(7);
  std::ofstream(blob, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(size));
  // The first byte picks the descriptor's media type: image manifest or index.
  const char* media_type = (data[0] & 1) != 0 ? "application/vnd.oci.image.index.v1+json"
                                              : "application/vnd.oci.image.manifest.v1+json";
  std::ofstream(dir / "index.json", std::ios::trunc)
      << R"({"schemaVersion":2,"manifests":[{"mediaType":")" << media_type << R"(","digest":")"
      << digest << R"(","size":)" << size << "}]}";
  auto source = regauth::image::open_oci_layout(dir.string(), "");
  std::filesystem::remove(blob);
  if (!source) {
    return 0;
  }
  const auto& manifests = (*source)->manifests();
  FUZZ_CHECK(!manifests.empty());
  FUZZ_CHECK(manifests.back().bytes == bytes);
  for (const auto& item : (*source)->blobs()) {
    FUZZ_CHECK(regauth::oci::validate_digest(item.digest).has_value());
  }
  return 0;
}
