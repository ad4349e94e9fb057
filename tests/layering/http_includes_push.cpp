// Not allowed: http/ sits below push/. Compiled with regauth_http's include path, this must
// fail to find the push header.
#include "regauth/http/http_client.hpp"
#include "regauth/push/pusher.hpp"

int layering_violation() { return 0; }
