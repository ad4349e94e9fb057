# Optional static analysis while compiling (REGAUTH_CLANG_TIDY=ON).
if(REGAUTH_CLANG_TIDY)
  find_program(CLANG_TIDY_EXE NAMES clang-tidy-14 clang-tidy REQUIRED)
  set(CMAKE_CXX_CLANG_TIDY ${CLANG_TIDY_EXE})
endif()
