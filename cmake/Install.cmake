# `cmake --install` (DESTDIR and --prefix honoured; GNUInstallDirs layout):
#   bin/regauth, bin/docker-credential-regauth (a relative symlink to regauth),
#   share/man/man1 (docs/man/CMakeLists.txt), shell completions, share/doc/regauth.
install(TARGETS regauth RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Made once in the build tree and installed as the link it is, so it stays relative to bin/.
file(CREATE_LINK regauth ${PROJECT_BINARY_DIR}/docker-credential-regauth SYMBOLIC)
install(FILES ${PROJECT_BINARY_DIR}/docker-credential-regauth DESTINATION ${CMAKE_INSTALL_BINDIR})

# Completions, where Debian's bash-completion, zsh and fish look for them.
install(FILES completions/regauth.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME regauth)
install(FILES completions/_regauth DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES completions/regauth.fish
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)

# share/doc/regauth: the README, the security model, the exit codes, the licence as Debian's
# copyright file, and the changelog (gzipped, as Debian policy asks).
set(_changelog_gz ${PROJECT_BINARY_DIR}/changelog.gz)
add_custom_command(
  OUTPUT ${_changelog_gz}
  COMMAND sh -c "gzip -9 -n -c \"$0\" > \"$1\"" ${PROJECT_SOURCE_DIR}/packaging/changelog
          ${_changelog_gz}
  DEPENDS ${PROJECT_SOURCE_DIR}/packaging/changelog
  VERBATIM)
add_custom_target(changelog ALL DEPENDS ${_changelog_gz})
install(FILES README.md docs/security.md docs/exit-codes.md packaging/copyright ${_changelog_gz}
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
