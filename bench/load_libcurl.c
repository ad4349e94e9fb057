/* The least any libcurl-based command pays before its first request: a process that loads
 * Debian's libcurl (and the libraries it links) as lazily as possible and initialises it, then
 * exits. bench/run compiles and times it as the start-up part of the floors it reports. */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
  void* curl = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
  if (curl == NULL) {
    fprintf(stderr, "load_libcurl: %s\n", dlerror());
    return 1;
  }
  int (*global_init)(long) = (int (*)(long))dlsym(curl, "curl_global_init");
  if (global_init == NULL || global_init(3L /* CURL_GLOBAL_DEFAULT */) != 0) {
    fprintf(stderr, "load_libcurl: curl_global_init failed\n");
    return 1;
  }
  return 0;
}
