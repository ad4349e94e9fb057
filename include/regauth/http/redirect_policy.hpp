// Which redirects regauth follows, and what a request keeps on the way (docs/security.md,
// "Transport"): never from https to http, Authorization only to the origin it was meant for, a
// body never carried to another origin (nor a streamed one anywhere), a bounded number of hops.
// Pure: the libcurl transport asks it at every 3xx.
#pragma once

#include "regauth/http/url.hpp"

#include <string>

namespace regauth::http {

// 301, 302, 303, 307 and 308: the statuses whose Location regauth follows.
bool is_redirect_status(long status);

enum class BodyKind {
  none,
  in_memory, // Request::body: can be sent again
  streamed,  // Request::body_source: read once
};

// The request that got a redirect, as it was sent on this hop.
struct RedirectedRequest {
  std::string method;
  BodyKind body = BodyKind::none;
  bool authorization = false;    // it still carried Authorization (or an AWS signature)
  std::string credential_origin; // the only origin Authorization may go to
  int redirects_followed = 0;    // before this one
};

enum class RedirectVerdict {
  follow,
  too_many,      // more than max_redirects hops
  https_to_http, // a downgrade, which would expose everything the request carries
  body_elsewhere // a 307/308 would carry the body to another origin, or resend a streamed one
};

struct RedirectDecision {
  RedirectVerdict verdict = RedirectVerdict::follow;
  std::string method;         // for the next hop: GET after a 303, or when a 301/302 drops a body
  bool drop_body = false;     // the next hop goes without the body
  bool authorization = false; // the next hop may carry Authorization
};

// Decides the redirect of `request` from `from` to `to` (Location resolved against `from`)
// with `status` (one of is_redirect_status). At most `max_redirects` redirects are followed.
RedirectDecision decide_redirect(const RedirectedRequest& request, const Url& from, const Url& to,
                                 long status, int max_redirects);

// True when a request to `url` may carry the Authorization meant for `credential_origin`.
bool may_carry_authorization(const Url& url, const std::string& credential_origin);

} // namespace regauth::http
