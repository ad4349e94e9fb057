#include "regauth/registry/registry_client.hpp"

#include "regauth/auth/challenge.hpp"
#include "regauth/http/error_body.hpp"
#include "regauth/http/retrying_client.hpp"
#include "regauth/http/url.hpp"
#include "regauth/oci/digest.hpp"
#include "regauth/oci/media_types.hpp"
#include "regauth/util/strings.hpp"
#include "regauth/util/terminal_text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

namespace regauth::registry {
namespace {

// Parses "0-1234" (the registry's Range header) into the next offset, 1235.
std::optional<std::uint64_t> next_offset_from_range(const std::optional<std::string>& range) {
  if (!range) {
    return std::nullopt;
  }
  std::string_view text = *range;
  if (text.substr(0, 6) == "bytes=") {
    text.remove_prefix(6);
  }
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    return std::nullopt;
  }
  auto last = parse_uint64(text.substr(dash + 1));
  if (!last) {
    return std::nullopt;
  }
  return *last + 1;
}

} // namespace

// Streams a blob, counting what was read, and skips what was already sent. The source checks
// the bytes against the digest (image::open_verified_blob) and fails the read that would hand
// over the last of them when they differ; the request then never completes.
class BlobStream {
public:
  // With `hashed`, every byte read is hashed too (SHA-256, digest()).
  explicit BlobStream(std::function<Result<std::size_t>(char*, std::size_t)> source,
                      bool hashed = false)
      : m_source(std::move(source)) {
    if (hashed) {
      m_hash.emplace();
    }
  }

  Result<std::size_t> read(char* buffer, std::size_t size) {
    auto got = m_source(buffer, size);
    if (got && *got > 0) {
      m_offset += *got;
      if (m_hash) {
        m_hash->update(std::string_view(buffer, *got));
      }
    }
    return got;
  }

  // "sha256:<hex>" of every byte read; once, at the end (hashed streams only).
  std::string digest() { return m_hash ? m_hash->finish() : std::string(); }

  // Reads up to `offset` without sending.
  Result<void> skip_to(std::uint64_t offset) {
    std::vector<char> buffer(1 << 16);
    while (m_offset < offset) {
      auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), offset - m_offset));
      auto got = read(buffer.data(), want);
      if (!got) {
        return got.error();
      }
      if (*got == 0) {
        return make_error(ErrorKind::io, "the blob ended before the registry's offset");
      }
    }
    return {};
  }

  [[nodiscard]] std::uint64_t offset() const { return m_offset; }

private:
  std::function<Result<std::size_t>(char*, std::size_t)> m_source;
  std::uint64_t m_offset = 0;
  std::optional<oci::Sha256> m_hash;
};

// The Docker-Content-Digest header, or nullopt when absent. A value that is not a digest
// (`algorithm:encoded` over the characters the OCI image spec allows) is the registry's error:
// protocol, with the bytes shown escaped.
Result<std::optional<std::string>> digest_header(const http::Response& response,
                                                 const std::string& what) {
  auto digest = response.header("Docker-Content-Digest");
  if (!digest) {
    return digest;
  }
  auto colon = digest->find(':');
  bool valid = colon != std::string::npos && colon > 0 && colon + 1 < digest->size();
  for (std::size_t i = 0; valid && i < digest->size(); ++i) {
    auto c = static_cast<unsigned char>((*digest)[i]);
    bool common = std::isalnum(c) != 0 || c == '+' || c == '.' || c == '_' || c == '-';
    valid = i == colon || (i < colon ? common && std::isupper(c) == 0 : common || c == '=');
  }
  if (!valid) {
    return make_error(ErrorKind::protocol, what +
                                               ": the Docker-Content-Digest header is not a "
                                               "digest: \"" +
                                               escape_for_terminal(*digest, 200) + "\"");
  }
  return digest;
}

std::string challenge_error(const http::Response& response) {
  auto challenges = auth::parse_challenge_headers(response.header_values("WWW-Authenticate"));
  if (!challenges) {
    return {};
  }
  for (const auto& challenge : *challenges) {
    if (auto error = challenge.param("error"); !error.empty()) {
      return error;
    }
  }
  return {};
}

RegistryClient::RegistryClient(ClientStack& stack, std::string repository, UploadPolicy policy)
    : m_stack(stack), m_repository(std::move(repository)), m_policy(policy) {}

std::string RegistryClient::url(const std::string& path) const {
  auto& authenticator = m_stack.authenticator();
  std::string base = authenticator.base_url();
  if (base.empty()) {
    // Not pinged yet: a failure shows again, with its words, when the request asks for its
    // Authorization.
    (void)authenticator.ping();
    base = authenticator.base_url();
  }
  return base + "/v2/" + m_repository + path;
}

Result<http::Response> RegistryClient::send(const http::Request& request) {
  return m_stack.client().send(request);
}

Result<void> RegistryClient::check_answer(const http::Response& response,
                                          const http::Request& request,
                                          const auth::AuthorizingClient& sender,
                                          const std::string& what) const {
  auto sent_to = http::parse_url(request.url);
  if (!sent_to) {
    return sent_to.error();
  }
  std::string registry_origin = m_stack.authenticator().origin();
  http::Proof proof{sent_to->origin(), request.method,
                    sender.last_authorization().has_value() &&
                        sent_to->origin() == registry_origin};
  return http::check_answered_by(response, proof, what);
}

Result<std::optional<std::uint64_t>> RegistryClient::head_blob(const std::string& digest) {
  http::Request request;
  request.method = "HEAD";
  request.url = url("/blobs/" + digest);
  auto response = send(request);
  if (!response) {
    return response.error();
  }
  if (response->status == 404) {
    return std::optional<std::uint64_t>();
  }
  if (response->status != 200) {
    return http::response_error("HEAD " + request.url, *response);
  }
  std::uint64_t size = 0;
  if (auto length = response->header("Content-Length"); length) {
    size = parse_uint64(*length).value_or(0);
  }
  return std::optional<std::uint64_t>(size);
}

Result<UploadSession> RegistryClient::session_from(const http::Response& response,
                                                   const std::string& base) {
  auto location = response.header("Location");
  if (!location || location->empty()) {
    return make_error(ErrorKind::protocol,
                      base + ": " + std::to_string(response.status) + " without a Location header");
  }
  if (!is_clean_text(*location)) {
    return make_error(ErrorKind::protocol, base +
                                               ": the Location header holds control bytes or "
                                               "invalid UTF-8: \"" +
                                               escape_for_terminal(*location, 200) + "\"");
  }
  auto absolute = http::resolve_url(base, *location);
  if (!absolute) {
    return absolute.error().with_context("upload Location from " + base);
  }
  UploadSession session;
  session.location = *absolute;
  if (auto min_chunk = response.header("OCI-Chunk-Min-Length"); min_chunk) {
    session.min_chunk = parse_uint64(*min_chunk).value_or(0);
  }
  return session;
}

Result<UploadSession> RegistryClient::start_upload() {
  http::Request request;
  request.method = "POST";
  request.url = url("/blobs/uploads/");
  auto response = send(request);
  if (!response) {
    return response.error();
  }
  if (response->status != 202) {
    return http::response_error("POST " + request.url, *response);
  }
  return session_from(*response, request.url);
}

Result<std::optional<MountOutcome>> RegistryClient::mount_answer(const http::Response& response,
                                                                 const std::string& request_url) {
  MountOutcome outcome;
  if (response.status == 201) {
    outcome.mounted = true;
    return std::optional<MountOutcome>(std::move(outcome));
  }
  if (response.status != 202) {
    return std::optional<MountOutcome>();
  }
  auto session = session_from(response, request_url);
  if (!session) {
    return session.error();
  }
  outcome.session = std::move(*session);
  return std::optional<MountOutcome>(std::move(outcome));
}

Result<MountOutcome> RegistryClient::open_gate(Refusal& refusal, const std::string& probe_digest,
                                               const std::string& from) {
  http::Request request;
  request.method = "POST";
  request.url = url("/blobs/uploads/");
  if (!probe_digest.empty()) {
    request.url = http::append_query(
        request.url, {{"mount", probe_digest}, {"from", from.empty() ? m_repository : from}});
  }
  // A busy registry's 5xx, 429 or dropped connection is no verdict: tried again like any
  // request (a 401 or 403 is, and is not renewed).
  auto response = m_stack.verdict_client().send(request);
  if (!response) {
    return response.error();
  }
  // The verdict counts only from the registry itself, never from where a redirect led.
  if (response->status == 201 || response->status == 202) {
    if (auto checked =
            check_answer(*response, request, m_stack.verdict_authorizing(), "POST " + request.url);
        !checked) {
      Error error = checked.error();
      error.message = "the push gate did not pass: " + error.message + "; nothing was sent";
      return error;
    }
  }
  if (!probe_digest.empty() && (response->status == 400 || response->status == 404 ||
                                response->status == 405 || response->status == 501)) {
    // A registry that does not take mount requests: a plain session then.
    return open_gate(refusal, "", from);
  }
  if (response->status != 201 || !probe_digest.empty()) {
    auto answer = mount_answer(*response, request.url);
    if (!answer) {
      return answer.error();
    }
    if (*answer) {
      return std::move(**answer);
    }
  }
  refusal.status = response->status;
  refusal.challenge_error = challenge_error(*response);
  refusal.server_words = http::describe_error_body(response->body);
  return http::response_error("POST " + url("/blobs/uploads/"), *response);
}

Result<MountOutcome> RegistryClient::mount_blob(const std::string& digest,
                                                const std::string& from) {
  http::Request request;
  request.method = "POST";
  request.url = http::append_query(url("/blobs/uploads/"), {{"mount", digest}, {"from", from}});
  auto response = send(request);
  if (!response) {
    return response.error();
  }
  if (!check_answer(*response, request, m_stack.authorizing(), "POST " + request.url)) {
    return MountOutcome{}; // someone else's 201 mounts nothing: upload it
  }
  auto answer = mount_answer(*response, request.url);
  if (!answer) {
    return answer.error();
  }
  // Some registries answer a bad `from` with an auth error: fall back to a plain upload.
  return answer->value_or(MountOutcome{});
}

Result<void> RegistryClient::cancel_upload(const UploadSession& session) {
  auto deadline = std::chrono::steady_clock::now() + k_cancel_budget;
  auto remaining = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  http::Request request;
  request.method = "DELETE";
  request.url = session.location;
  request.timeout = remaining();
  request.during_interrupt = true;
  auto& sender = m_stack.verdict_authorizing();
  auto response = sender.send(request);
  if (response && response->status == 401 && std::chrono::steady_clock::now() < deadline) {
    // A token that may also delete: the token server grants what it grants (a subset is no
    // error), and the registry decides.
    std::vector<auth::Scope> scopes = sender.scopes();
    for (auto& scope : scopes) {
      if (scope.name == m_repository &&
          std::find(scope.actions.begin(), scope.actions.end(), "delete") == scope.actions.end()) {
        scope.actions.emplace_back("delete");
      }
    }
    std::optional<std::string> value;
    if (auto fetched = m_stack.authenticator().authorization(scopes); fetched) {
      value = *fetched;
    }
    if (value && value != sender.last_authorization() &&
        std::chrono::steady_clock::now() < deadline) {
      request.headers.push_back({"Authorization", *value});
      request.credential_origin = m_stack.authenticator().origin();
      request.timeout = remaining();
      response = m_stack.transport().send(request);
    }
  }
  if (!response) {
    return response.error();
  }
  if (response->status != 204 && response->status != 200 && response->status != 202) {
    return http::response_error("DELETE upload session", *response);
  }
  return {};
}

Error RegistryClient::abandon(const UploadSession& session, const Error& error) {
  auto cancelled = cancel_upload(session);
  ++(cancelled ? m_cancelled : m_uncancelled);
  Error result = error;
  result.message += cancelled ? "; the upload session was cancelled, nothing was published"
                              : "; nothing was published (cancelling the upload session failed: " +
                                    cancelled.error().message + ")";
  return result;
}

Result<void> RegistryClient::upload_blob(UploadSession session, const std::string& digest,
                                         std::uint64_t size, const BlobOpener& open,
                                         const ProgressSink& progress) {
  if (size > m_policy.chunk_threshold) {
    return upload_chunked(std::move(session), digest, size, open, progress);
  }
  return upload_monolithic(std::move(session), digest, size, open, progress);
}

Result<void> RegistryClient::upload_monolithic(UploadSession session, const std::string& digest,
                                               std::uint64_t size, const BlobOpener& open,
                                               const ProgressSink& progress) {
  std::shared_ptr<BlobStream> stream;
  // A fresh stream of the blob from its first byte, as the request's body.
  auto attach_body = [&](http::Request& request) -> Result<void> {
    auto source = open();
    if (!source) {
      return source.error();
    }
    stream = std::make_shared<BlobStream>(std::move(*source));
    request.body_source = [stream = stream, &progress](char* buffer, std::size_t want) {
      auto got = stream->read(buffer, want);
      if (got && progress) {
        progress(stream->offset());
      }
      return got;
    };
    return {};
  };
  http::Request request;
  request.method = "PUT";
  request.url = http::append_query(session.location, {{"digest", digest}});
  request.headers = {{"Content-Type", "application/octet-stream"}};
  request.body_size = size;
  if (auto attached = attach_body(request); !attached) {
    return attached.error();
  }
  // Set when making the request ready again failed: its error is returned as it is.
  bool resend_failed = false;
  request.prepare_resend = [&](http::Request& again) -> Result<void> {
    // The session may be spent: a fresh one for the next attempt.
    auto fresh = start_upload();
    if (!fresh) {
      resend_failed = true;
      return fresh.error().with_context("restarting the upload of " + digest);
    }
    session = std::move(*fresh);
    again.url = http::append_query(session.location, {{"digest", digest}});
    auto attached = attach_body(again);
    resend_failed = !attached;
    return attached;
  };
  auto response = send(request);
  if (!response) {
    if (resend_failed) {
      return response.error();
    }
    if (response.error().kind != ErrorKind::network) {
      return abandon(session, response.error()); // the source's bytes, or an interruption
    }
    return response.error().with_context("uploading " + digest);
  }
  if (response->status != 201 && response->status != 204) {
    return http::response_error("PUT " + digest, *response);
  }
  http::Request sent = request;
  sent.url = http::append_query(session.location, {{"digest", digest}});
  if (auto checked = check_answer(*response, sent, m_stack.authorizing(), "PUT " + digest);
      !checked) {
    return checked.error();
  }
  if (stream->offset() != size) {
    return make_error(ErrorKind::io, "uploading " + digest + ": the source gave " +
                                         std::to_string(stream->offset()) + " bytes, expected " +
                                         std::to_string(size));
  }
  return {};
}

Result<std::uint64_t> RegistryClient::resume_offset(UploadSession& session,
                                                    std::uint64_t& acknowledged,
                                                    const std::string& what) {
  http::Request status;
  status.url = session.location;
  auto where = send(status);
  if (!where) {
    return where.error().with_context("resuming the upload of " + what);
  }
  if (where->status == 404) {
    // The session is gone. distribution ends a session whose state no longer matches what it
    // holds: after a request whose answer was lost, the Location in hand is one step behind,
    // and the registry cancels the upload when it is used. Start over in a fresh session.
    auto fresh = start_upload();
    if (!fresh) {
      return fresh.error().with_context("restarting the upload of " + what);
    }
    session = std::move(*fresh);
    acknowledged = 0;
    return std::uint64_t{0};
  }
  if (where->status != 204 && where->status != 200) {
    return http::response_error("GET upload status of " + what, *where);
  }
  if (auto next = session_from(*where, session.location); next) {
    session.location = next->location;
  }
  // "0-0" means both "nothing yet" and "one byte" (distribution writes it for either):
  // then what the registry acknowledged before decides.
  std::uint64_t resume_at = next_offset_from_range(where->header("Range")).value_or(acknowledged);
  if (resume_at <= 1) {
    resume_at = std::min<std::uint64_t>(acknowledged, 1);
  }
  return resume_at;
}

Result<void> RegistryClient::accept_patch(const http::Response& response, UploadSession& session,
                                          PatchRetry& retry, std::uint64_t acknowledged) {
  retry.failures = 0;
  retry.acknowledged = acknowledged;
  auto next = session_from(response, session.location);
  if (next) {
    session.location = next->location; // always the newest Location
  } else if (response.header("Location")) {
    return next.error();
  }
  return {};
}

Result<std::shared_ptr<BlobStream>>
RegistryClient::resume_after(const Result<http::Response>& response, UploadSession& session,
                             PatchRetry& retry, const BlobOpener& open, bool hashed,
                             const std::string& what) {
  if (response && response->status == 401 && !retry.renewed) {
    retry.renewed = true; // the next request carries the renewed Authorization
  } else if (++retry.failures >= m_stack.retry_policy().max_attempts ||
             (response && !http::is_retryable_status(response->status) &&
              response->status != 416)) {
    if (!response) {
      return response.error().with_context("uploading " + what);
    }
    return http::response_error("PATCH " + what, *response);
  } else {
    (void)m_stack.clock().sleep(
        http::retry_delay(m_stack.retry_policy(), response ? &*response : nullptr, retry.failures));
  }
  auto resume_at = resume_offset(session, retry.acknowledged, what);
  if (!resume_at) {
    return resume_at.error();
  }
  auto reopened = open();
  if (!reopened) {
    return abandon(session, reopened.error());
  }
  auto stream = std::make_shared<BlobStream>(std::move(*reopened), hashed);
  if (auto skipped = stream->skip_to(*resume_at); !skipped) {
    return abandon(session, skipped.error());
  }
  return stream;
}

Result<void> RegistryClient::upload_chunked(UploadSession session, const std::string& digest,
                                            std::uint64_t size, const BlobOpener& open,
                                            const ProgressSink& progress) {
  auto source = open();
  if (!source) {
    return source.error();
  }
  auto stream = std::make_shared<BlobStream>(std::move(*source));
  std::uint64_t chunk =
      m_policy.chunk_size == 0 ? size : std::max(m_policy.chunk_size, session.min_chunk);
  PatchRetry retry;
  // The last byte goes alone in a PATCH of its own, read before that PATCH is sent: the source
  // checks the digest when it hands over the last bytes, so bytes that do not match stop the
  // upload with no request in flight, the registry's offset still matches the newest Location
  // and the session can be cancelled. (distribution refuses to cancel a session whose offset
  // moved under a request that was cut short, and a request it is still finishing can recreate
  // the session's files after a DELETE.)
  std::uint64_t bulk_end = size > 1 ? size - 1 : size;
  while (stream->offset() < size) {
    std::uint64_t start = stream->offset();
    std::uint64_t length = start < bulk_end ? std::min(chunk, bulk_end - start) : size - start;
    auto remaining = std::make_shared<std::uint64_t>(length);
    http::Request request;
    request.method = "PATCH";
    request.url = session.location;
    request.headers = {
        {"Content-Type", "application/octet-stream"},
        {"Content-Range", std::to_string(start) + "-" + std::to_string(start + length - 1)}};
    if (start >= bulk_end) {
      std::string tail(static_cast<std::size_t>(length), '\0');
      std::size_t filled = 0;
      while (filled < tail.size()) {
        auto got = stream->read(tail.data() + filled, tail.size() - filled);
        if (!got) {
          return abandon(session, got.error());
        }
        if (*got == 0) {
          break;
        }
        filled += *got;
      }
      if (filled < tail.size()) {
        return abandon(
            session, make_error(ErrorKind::io, "uploading " + digest + ": the source ended early"));
      }
      request.body = std::move(tail);
      if (progress) {
        progress(stream->offset());
      }
    } else {
      request.body_size = length;
      request.body_source = [stream, remaining, &progress](char* buffer, std::size_t want) {
        auto limited = static_cast<std::size_t>(std::min<std::uint64_t>(want, *remaining));
        if (limited == 0) {
          return Result<std::size_t>(std::size_t{0});
        }
        auto got = stream->read(buffer, limited);
        if (got) {
          *remaining -= *got;
          if (progress) {
            progress(stream->offset());
          }
        }
        return got;
      };
    }
    // Not retried as a whole: after a failure the upload resumes where the registry says it is.
    auto response = m_stack.authorizing().send(request);
    if (!response && response.error().kind != ErrorKind::network) {
      return abandon(session, response.error()); // the source's bytes, or an interruption
    }
    bool ok =
        response && (response->status == 202 || response->status == 204 || response->status == 201);
    if (ok) {
      if (auto accepted = accept_patch(*response, session, retry, start + length); !accepted) {
        return accepted.error();
      }
      continue;
    }
    auto resumed = resume_after(response, session, retry, open, false, digest);
    if (!resumed) {
      return resumed.error();
    }
    stream = std::move(*resumed);
  }
  http::Request close;
  close.method = "PUT";
  close.url = http::append_query(session.location, {{"digest", digest}});
  close.headers = {{"Content-Type", "application/octet-stream"}};
  close.body_size = 0;
  auto response = send(close);
  if (!response) {
    return response.error();
  }
  if (response->status != 201 && response->status != 204) {
    return http::response_error("PUT " + digest, *response);
  }
  return check_answer(*response, close, m_stack.authorizing(), "PUT " + digest);
}

Result<StreamedBlob> RegistryClient::upload_streamed(UploadSession session, const std::string& what,
                                                     const BlobOpener& open,
                                                     const ProgressSink& progress) {
  auto source = open();
  if (!source) {
    return abandon(session, source.error());
  }
  auto stream = std::make_shared<BlobStream>(std::move(*source), true);
  PatchRetry retry;
  bool ended = false; // the source handed over its last byte
  while (!ended) {
    // The rest of the stream in one PATCH. A source that fails ends the body there, so the
    // PATCH completes with no request cut short and the session can be cancelled (distribution
    // refuses to cancel a session whose offset moved under a request that was cut short).
    std::optional<Error> source_error;
    http::Request request;
    request.method = "PATCH";
    request.url = session.location;
    request.headers = {{"Content-Type", "application/octet-stream"}};
    request.body_size_unknown = true;
    request.body_source = [&stream, &source_error, &ended, &progress](char* buffer,
                                                                      std::size_t want) {
      if (source_error || ended) {
        return Result<std::size_t>(std::size_t{0});
      }
      auto got = stream->read(buffer, want);
      if (!got) {
        source_error = got.error();
        return Result<std::size_t>(std::size_t{0});
      }
      ended = *got == 0;
      if (progress && !ended) {
        progress(stream->offset());
      }
      return got;
    };
    auto response = m_stack.authorizing().send(request);
    if (source_error) {
      // The body ended early but whole: the session moved on, to the newest Location.
      if (response && (response->status == 202 || response->status == 204)) {
        if (auto next = session_from(*response, session.location)) {
          session.location = next->location;
        }
      }
      return abandon(session, *source_error);
    }
    if (!response && response.error().kind != ErrorKind::network) {
      return abandon(session, response.error()); // an interruption
    }
    if (response && (response->status == 202 || response->status == 204)) {
      if (auto accepted = accept_patch(*response, session, retry, stream->offset()); !accepted) {
        return accepted.error();
      }
      continue;
    }
    ended = false;
    // The stream gives the same bytes each time: read it again up to where the registry is.
    auto resumed = resume_after(response, session, retry, open, true, what);
    if (!resumed) {
      return resumed.error();
    }
    stream = std::move(*resumed);
  }
  StreamedBlob blob{stream->digest(), stream->offset()};
  http::Request close;
  close.method = "PUT";
  close.url = http::append_query(session.location, {{"digest", blob.digest}});
  close.headers = {{"Content-Type", "application/octet-stream"}};
  auto response = send(close);
  if (!response) {
    return response.error();
  }
  if (response->status != 201 && response->status != 204) {
    return http::response_error("PUT " + blob.digest + " (" + what + ")", *response);
  }
  if (auto checked = check_answer(*response, close, m_stack.authorizing(), "PUT " + blob.digest);
      !checked) {
    return checked.error();
  }
  return blob;
}

Result<std::optional<std::string>>
RegistryClient::head_manifest(const std::string& reference, const std::string& media_type,
                              const std::optional<std::string>& authorization) {
  http::Request request;
  request.method = "HEAD";
  request.url = url("/manifests/" + reference);
  std::string accept = media_type;
  for (std::string_view known :
       {oci::k_oci_index, oci::k_oci_manifest, oci::k_docker_list, oci::k_docker_manifest}) {
    if (media_type != known) {
      accept += std::string(accept.empty() ? "" : ", ") + std::string(known);
    }
  }
  request.headers = {{"Accept", accept}};
  if (authorization) {
    request.headers.push_back({"Authorization", *authorization});
  }
  request.credential_origin = m_stack.authenticator().origin();
  request.timeout = k_lookup_timeout;
  auto response = m_stack.transport().send(request);
  if (!response) {
    return response.error();
  }
  if (response->status == 404) {
    return std::optional<std::string>();
  }
  if (response->status != 200) {
    return http::response_error("HEAD " + request.url, *response);
  }
  http::Proof proof{http::parse_url(request.url)->origin(), "HEAD", false};
  if (!http::check_answered_by(*response, proof, "HEAD " + request.url)) {
    return std::optional<std::string>(); // elsewhere's answer: unknown, push the long way
  }
  return digest_header(*response, "HEAD " + request.url);
}

Result<ManifestOutcome> RegistryClient::put_manifest(const std::string& reference,
                                                     const std::string& media_type,
                                                     const std::string& bytes) {
  http::Request request;
  request.method = "PUT";
  request.url = url("/manifests/" + reference);
  request.headers = {{"Content-Type", media_type}};
  request.body = bytes;
  auto response = send(request);
  if (!response) {
    return response.error();
  }
  if (response->status != 201 && response->status != 200 && response->status != 202) {
    return http::response_error("PUT manifest " + reference, *response);
  }
  if (auto checked =
          check_answer(*response, request, m_stack.authorizing(), "PUT manifest " + reference);
      !checked) {
    return checked.error();
  }
  auto digest = digest_header(*response, "PUT manifest " + reference);
  if (!digest) {
    return digest.error();
  }
  ManifestOutcome outcome;
  outcome.digest = digest->value_or("");
  return outcome;
}

} // namespace regauth::registry
