// Loading a shared library on first use (dlopen) and resolving its symbols into a table of
// function pointers. A library regauth needs but cannot load is as fatal as a missing library
// at start-up: the loader's message is printed and the process exits with status 1.
// Used by src/util/libcrypto.cpp, src/http/libcurl.cpp and src/image/libarchive.cpp.
#pragma once

namespace regauth {

class DynamicLibrary {
public:
  // Opens `soname` (RTLD_LAZY | RTLD_LOCAL: a function is bound on its first call); exits as
  // described above when it cannot.
  explicit DynamicLibrary(const char* soname);

  // Resolves `name` into `target`; exits as described above when the symbol is missing.
  template <typename Function> void resolve(const char* name, Function& target) const {
    target = reinterpret_cast<Function>(symbol(name));
  }

private:
  [[nodiscard]] void* symbol(const char* name) const;
  [[noreturn]] void fail(const char* what) const;

  const char* m_soname;
  void* m_handle; // never closed: the library stays loaded for the life of the process
};

} // namespace regauth
