#include "regauth/http/redirect_policy.hpp"

namespace regauth::http {

bool is_redirect_status(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool may_carry_authorization(const Url& url, const std::string& credential_origin) {
  return url.origin() == credential_origin;
}

RedirectDecision decide_redirect(const RedirectedRequest& request, const Url& from, const Url& to,
                                 long status, int max_redirects) {
  RedirectDecision decision;
  decision.method = request.method;
  if (request.redirects_followed + 1 > max_redirects) {
    decision.verdict = RedirectVerdict::too_many;
    return decision;
  }
  if (from.scheme == "https" && to.scheme == "http") {
    decision.verdict = RedirectVerdict::https_to_http;
    return decision;
  }
  // 307 and 308 repeat the request as it was, body included (RFC 9110 15.4.8, 15.4.9); 301 and
  // 302 let a client turn a POST into a GET, as every browser and Go do, and 303 asks for it.
  bool keeps_method = status == 307 || status == 308;
  bool has_body = request.body != BodyKind::none;
  if (has_body && keeps_method) {
    if (to.origin() != from.origin() || request.body == BodyKind::streamed) {
      decision.verdict = RedirectVerdict::body_elsewhere;
      return decision;
    }
  } else if (has_body || status == 303) {
    decision.method = request.method == "HEAD" ? "HEAD" : "GET";
    decision.drop_body = has_body;
  }
  // Once dropped, Authorization stays dropped, even on a way back to its origin.
  decision.authorization =
      request.authorization && may_carry_authorization(to, request.credential_origin);
  return decision;
}

} // namespace regauth::http
