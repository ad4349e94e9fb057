// Allowed: http/ depends on util/. Compiled with regauth_http's include path by
// tests/layering/CMakeLists.txt; it must compile, or the negative tests beside it prove nothing.
#include "regauth/http/http_client.hpp"
#include "regauth/util/base64.hpp"

int layering_allowed() { return 0; }
