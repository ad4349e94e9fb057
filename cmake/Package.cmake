# `cpack -G DEB` in the build directory: regauth_<version>_<arch>.deb, installing under /usr
# what cmake/Install.cmake lays out, binary stripped, man pages and changelog gzipped.
set(CPACK_PACKAGE_NAME regauth)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The regauth authors")
set(REGAUTH_PACKAGE_MAINTAINER "The regauth authors <regauth@example.org>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${REGAUTH_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Docker-compatible registry login and gated image push")
# The extended description (CPack indents it and turns the empty line into " ."); lines of at
# most 80 characters (lintian).
set(CPACK_PACKAGE_DESCRIPTION "regauth logs in to container registries and keeps the credentials where the
Docker CLI looks for them (config.json, credsStore, credHelpers), speaking the
Registry v2 auth protocol. It pushes OCI image layouts and docker-save
tarballs, checking push rights before it sends any blob.

Config writes are locked and atomic and keep every field; credentials never
go to a foreign token realm or over plain HTTP; secrets never appear in argv
or logs.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps sees libc only: regauth opens the others with dlopen on first use
# (docs/ARCHITECTURE.md, "Libraries loaded on first use"), so they are named here.
# libcurl 7.85 for CURLOPT_PROTOCOLS_STR; libarchive 3.3.3 for zstd; libzstd 1.4 for
# ZSTD_compressStream2.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libcurl4 (>= 7.85.0), libssl3, libpsl5, libarchive13 (>= 3.3.3), zlib1g, libdeflate0, libzstd1 (>= 1.4.0)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "golang-docker-credential-helpers, pass")

include(CPack)
