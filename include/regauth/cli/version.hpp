// The version regauth was built as, and the versions of the libraries it loads on first use.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace regauth {

// The version: `git describe` of the checkout it was built from ("0.1.0 (git e0284ab)" when
// no tag names a version), else the CMake project version. Never empty.
std::string_view version();

// The name and version of each library regauth loads with dlopen (libcurl, OpenSSL, libarchive,
// libpsl, zlib, libdeflate, libzstd), as each reports it. Loads every one of them (tens of
// milliseconds); a library that cannot be loaded ends the process as described in
// include/regauth/util/dynamic_library.hpp, except libdeflate, shown as "unavailable: ...".
std::vector<std::pair<std::string, std::string>> library_versions();

} // namespace regauth
