// A throwaway OCI layout folder for the fuzzers of parsers that read one (made once per process).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

inline std::filesystem::path make_fuzz_layout(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  std::filesystem::path made = ::mkdtemp(pattern.data());
  std::filesystem::create_directories(made / "blobs" / "sha256");
  std::ofstream(made / "oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
  return made;
}
