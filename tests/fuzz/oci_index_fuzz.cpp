// OCI layout index.json: the bytes become index.json of a layout in a temp dir (the parser reads
// a folder). Whatever it accepts has only valid digests, and no path outside the layout is read.
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
  static const std::filesystem::path dir = make_fuzz_layout("regauth-fuzz-oci");
  return dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto dir = layout_dir();
  {
    std::ofstream out(dir / "index.json", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto source = regauth::image::open_oci_layout(dir.string(), "");
  if (!source) {
    return 0;
  }
  for (const auto& blob : (*source)->blobs()) {
    FUZZ_CHECK(regauth::oci::validate_digest(blob.digest).has_value());
  }
  for (const auto& manifest : (*source)->manifests()) {
    FUZZ_CHECK(regauth::oci::validate_digest(manifest.digest).has_value());
  }
  return 0;
}
