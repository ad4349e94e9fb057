#include "libcurl.hpp"

#include "regauth/http/curl_client.hpp"
#include "regauth/util/dynamic_library.hpp"

#include <mutex>

namespace regauth::http {
namespace {

LibCurl load() {
  const DynamicLibrary library("libcurl.so.4");
  LibCurl api{};
  library.resolve("curl_global_init", api.global_init);
  library.resolve("curl_easy_init", api.easy_init);
  library.resolve("curl_easy_cleanup", api.easy_cleanup);
  library.resolve("curl_easy_reset", api.easy_reset);
  library.resolve("curl_easy_setopt", api.easy_setopt);
  library.resolve("curl_easy_perform", api.easy_perform);
  library.resolve("curl_easy_getinfo", api.easy_getinfo);
  library.resolve("curl_easy_strerror", api.easy_strerror);
  library.resolve("curl_easy_escape", api.easy_escape);
  library.resolve("curl_free", api.free);
  library.resolve("curl_slist_append", api.slist_append);
  library.resolve("curl_slist_free_all", api.slist_free_all);
  library.resolve("curl_url", api.url);
  library.resolve("curl_url_cleanup", api.url_cleanup);
  library.resolve("curl_url_set", api.url_set);
  library.resolve("curl_url_get", api.url_get);
  library.resolve("curl_version_info", api.version_info);
  api.global_init(CURL_GLOBAL_DEFAULT);
  return api; // the library stays loaded for the life of the process
}

} // namespace

const LibCurl& libcurl() {
  static const LibCurl api = load(); // thread-safe initialisation
  return api;
}

std::string libcurl_version() {
  const curl_version_info_data* info = libcurl().version_info(CURLVERSION_NOW);
  return info != nullptr && info->version != nullptr ? info->version : "unknown";
}

} // namespace regauth::http
