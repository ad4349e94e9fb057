// A scripted HttpClient for unit tests: answers are keyed by method and URL prefix (the longest
// matching prefix wins) and given in order, the last one repeating. Every request is recorded,
// so tests can check headers, bodies and which hosts were contacted. Unscripted requests fail
// (network), which is what a test of "never contacted" wants to see.
#pragma once

#include "regauth/http/http_client.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace regauth::testing {

// A response with `status`, `body` and `headers`.
inline http::Response make_response(long status, std::string body = {},
                                    std::vector<http::Header> headers = {}) {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

inline std::string header_value(const http::Request& request, std::string_view name);

class FakeHttpClient final : public http::HttpClient {
public:
  // Scripts the answers to `method` requests whose URL starts with `url_prefix`.
  void on(std::string method, std::string url_prefix, std::vector<Result<http::Response>> answers) {
    m_routes.push_back(Route{std::move(method), std::move(url_prefix), std::move(answers), 0});
  }
  void on(std::string method, std::string url_prefix, http::Response answer) {
    on(std::move(method), std::move(url_prefix),
       std::vector<Result<http::Response>>{Result<http::Response>(std::move(answer))});
  }

  Result<http::Response> send(const http::Request& request) override {
    m_requests.push_back(request);
    Route* best = nullptr;
    for (auto& route : m_routes) {
      if (route.method == request.method && request.url.rfind(route.url_prefix, 0) == 0 &&
          (!best || route.url_prefix.size() > best->url_prefix.size())) {
        best = &route;
      }
    }
    if (!best || best->answers.empty()) {
      return make_error(ErrorKind::network, "FakeHttpClient: no scripted answer for " +
                                                request.method + " " + request.url);
    }
    std::size_t index = std::min(best->next, best->answers.size() - 1);
    ++best->next;
    Result<http::Response> answer = best->answers[index];
    // An answer scripted with a `url` of its own stands for one that came after redirects: its
    // `method` and `authorization_sent` are taken as scripted.
    if (answer && answer->url.empty()) {
      answer->url = request.url;
      answer->method = request.method;
      answer->authorization_sent = !header_value(request, "Authorization").empty();
    } else if (answer && answer->method.empty()) {
      answer->method = request.method;
    }
    return answer;
  }

  [[nodiscard]] const std::vector<http::Request>& requests() const { return m_requests; }

  // The recorded requests whose URL starts with `url_prefix`.
  [[nodiscard]] std::vector<http::Request> requests_to(std::string_view url_prefix) const {
    std::vector<http::Request> matching;
    for (const auto& request : m_requests) {
      if (request.url.rfind(url_prefix, 0) == 0) {
        matching.push_back(request);
      }
    }
    return matching;
  }

private:
  struct Route {
    std::string method;
    std::string url_prefix;
    std::vector<Result<http::Response>> answers;
    std::size_t next = 0;
  };
  std::vector<Route> m_routes;
  std::vector<http::Request> m_requests;
};

// The value of the first request header named `name` (case-insensitive), or "".
inline std::string header_value(const http::Request& request, std::string_view name) {
  for (const auto& header : request.headers) {
    if (http::equals_ignore_case(header.name, name)) {
      return header.value;
    }
  }
  return {};
}

} // namespace regauth::testing
