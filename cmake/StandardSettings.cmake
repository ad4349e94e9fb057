# One INTERFACE target that every regauth target links: warnings, hardening, sanitizers.
add_library(regauth_settings INTERFACE)

target_compile_options(regauth_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)

# Each function and object in a section of its own, so that the linker drops what nothing
# calls (--gc-sections on the executable): a quarter of the binary, and of its resident pages.
target_compile_options(regauth_settings INTERFACE -ffunction-sections -fdata-sections)

target_compile_definitions(regauth_settings INTERFACE
  $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>
  _FILE_OFFSET_BITS=64)

if(REGAUTH_SANITIZERS)
  string(REPLACE ";" "," _sanitizers "${REGAUTH_SANITIZERS}")
  target_compile_options(regauth_settings INTERFACE
    -fsanitize=${_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(regauth_settings INTERFACE -fsanitize=${_sanitizers})
endif()
