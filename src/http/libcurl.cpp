#include "libcurl.hpp"

#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>

namespace regauth::http {
namespace {

[[noreturn]] void fail(const char* what) {
  const char* detail = ::dlerror();
  std::fprintf(stderr, "regauth: error: cannot load libcurl.so.4 (%s): %s\n", what,
               detail ? detail : "unknown error");
  std::_Exit(1);
}

template <typename Function> void resolve(void* library, const char* name, Function& target) {
  void* symbol = ::dlsym(library, name);
  if (!symbol) {
    fail(name);
  }
  target = reinterpret_cast<Function>(symbol);
}

LibCurl load() {
  void* library = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    fail("dlopen");
  }
  LibCurl api{};
  resolve(library, "curl_global_init", api.global_init);
  resolve(library, "curl_easy_init", api.easy_init);
  resolve(library, "curl_easy_cleanup", api.easy_cleanup);
  resolve(library, "curl_easy_reset", api.easy_reset);
  resolve(library, "curl_easy_setopt", api.easy_setopt);
  resolve(library, "curl_easy_perform", api.easy_perform);
  resolve(library, "curl_easy_getinfo", api.easy_getinfo);
  resolve(library, "curl_easy_strerror", api.easy_strerror);
  resolve(library, "curl_easy_escape", api.easy_escape);
  resolve(library, "curl_free", api.free);
  resolve(library, "curl_slist_append", api.slist_append);
  resolve(library, "curl_slist_free_all", api.slist_free_all);
  resolve(library, "curl_url", api.url);
  resolve(library, "curl_url_cleanup", api.url_cleanup);
  resolve(library, "curl_url_set", api.url_set);
  resolve(library, "curl_url_get", api.url_get);
  api.global_init(CURL_GLOBAL_DEFAULT);
  return api; // the library stays loaded for the life of the process
}

} // namespace

const LibCurl& libcurl() {
  static const LibCurl api = load(); // thread-safe initialisation
  return api;
}

} // namespace regauth::http
