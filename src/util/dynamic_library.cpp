#include "regauth/util/dynamic_library.hpp"

#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>

namespace regauth {

DynamicLibrary::DynamicLibrary(const char* soname)
    : m_soname(soname), m_handle(::dlopen(soname, RTLD_LAZY | RTLD_LOCAL)) {
  if (m_handle == nullptr) {
    fail("dlopen");
  }
}

void* DynamicLibrary::symbol(const char* name) const {
  void* found = ::dlsym(m_handle, name);
  if (found == nullptr) {
    fail(name);
  }
  return found;
}

void DynamicLibrary::fail(const char* what) const {
  const char* detail = ::dlerror();
  std::fprintf(stderr, "regauth: error: cannot load %s (%s): %s\n", m_soname, what,
               detail != nullptr ? detail : "unknown error");
  std::_Exit(1);
}

} // namespace regauth
