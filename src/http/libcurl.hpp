// libcurl, loaded on first use with dlopen rather than at process start: libcurl and the
// libraries it pulls in (TLS, Kerberos, LDAP, SSH, HTTP/2, IDN...) cost several milliseconds
// to map and relocate, which commands that never speak HTTP (ls, logout, --version) must not
// pay. Private to src/http/.
#pragma once

#include <curl/curl.h>

namespace regauth::http {

// The libcurl entry points regauth uses, resolved from libcurl.so.4.
struct LibCurl {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL* handle);
  void (*easy_reset)(CURL* handle);
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* handle);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  const char* (*easy_strerror)(CURLcode code);
  char* (*easy_escape)(CURL* handle, const char* text, int length);
  void (*free)(void* pointer);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
  CURLU* (*url)();
  void (*url_cleanup)(CURLU* handle);
  CURLUcode (*url_set)(CURLU* handle, CURLUPart part, const char* content, unsigned flags);
  CURLUcode (*url_get)(const CURLU* handle, CURLUPart part, char** content, unsigned flags);
  curl_version_info_data* (*version_info)(CURLversion stamp);
};

// The loaded library; loads it (and runs curl_global_init) on the first call, thread-safely.
// A libcurl that cannot be loaded is as fatal as a missing library at start-up: regauth
// prints the loader's message and exits with status 1.
const LibCurl& libcurl();

} // namespace regauth::http
