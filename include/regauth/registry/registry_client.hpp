// The registry's blob and manifest endpoints for one repository (distribution-spec "Push"):
// HEAD blobs, upload sessions (POST, monolithic PUT, chunked PATCH with resume, cross-repo mount,
// cancel) and manifest PUT, and the resume of a chunked upload from the registry's Range.
// Authorization and retries come from the ClientStack it is given (one connection per job).
#pragma once

#include "regauth/auth/authorizing_client.hpp"
#include "regauth/http/http_client.hpp"
#include "regauth/registry/client_stack.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace regauth::registry {

// An open upload session: where the next request goes.
struct UploadSession {
  std::string location;        // absolute URL, query kept
  std::uint64_t min_chunk = 0; // OCI-Chunk-Min-Length, when the registry asks for one
};

struct MountOutcome {
  bool mounted = false;
  std::optional<UploadSession> session; // the registry started a normal upload instead
};

class BlobStream; // a blob's bytes on their way out (registry_client.cpp)

// What a streamed upload sent: known only once its last byte went.
struct StreamedBlob {
  std::string digest; // "sha256:<hex>" of the bytes sent
  std::uint64_t size = 0;
};

struct ManifestOutcome {
  std::string digest; // Docker-Content-Digest as the registry reported it ("" when absent)
};

// Produces a fresh stream of the blob's bytes, from the start.
using BlobOpener = std::function<Result<std::function<Result<std::size_t>(char*, std::size_t)>>()>;
// Reports bytes sent so far for one blob.
using ProgressSink = std::function<void(std::uint64_t sent)>;

struct UploadPolicy {
  std::uint64_t chunk_threshold = 512ULL << 20; // blobs above this go by PATCH, resumable
  // Bytes per PATCH; 0 sends the rest of the blob in one streamed PATCH (two requests for the
  // whole blob, as skopeo), and after an error the next PATCH resumes at the registry's offset.
  std::uint64_t chunk_size = 0;
  // Attempts per request: the ClientStack's RetryPolicy (network errors, 408, 429, 5xx).
};

// A failed exchange, classified for the push gate.
struct Refusal {
  long status = 0;
  std::string challenge_error; // WWW-Authenticate error="..." (e.g. insufficient_scope)
  std::string server_words;    // "unauthorized: authentication required"
};

// The longest a lookup (head_manifest) may take: it only saves work, so a registry slow to
// answer it must not hold up a push.
inline constexpr std::chrono::milliseconds k_lookup_timeout{10000};

// The longest cancelling one upload session may take (a DELETE, perhaps a token for it and a
// second DELETE): it runs while regauth is failing or being interrupted.
inline constexpr std::chrono::milliseconds k_cancel_budget{2000};

class RegistryClient {
public:
  // Requests go through `stack` (its scopes are this client's); `stack` must outlive it.
  RegistryClient(ClientStack& stack, std::string repository, UploadPolicy policy = {});

  // The blob's size when the registry has it; nullopt on 404.
  Result<std::optional<std::uint64_t>> head_blob(const std::string& digest);
  // POST /v2/<name>/blobs/uploads/: 202 and a Location (token renewed once on 401, retried).
  Result<UploadSession> start_upload();
  // The push gate's request: POST /v2/<name>/blobs/uploads/, with ?mount=<probe>&from=<name>
  // when `probe_digest` is set, so that the one request also tells whether that blob is already
  // in the repository (201) or opens the session to upload it (202). Retried on network errors,
  // 5xx and 429 as any request, but a 401 is not renewed: it is the verdict, and with a 403
  // fills `refusal`.
  // `from` is the repository to mount from (this one when empty).
  Result<MountOutcome> open_gate(Refusal& refusal, const std::string& probe_digest,
                                 const std::string& from = "");
  // POST ?mount=<digest>&from=<repository>: 201 mounted, 202 a plain session.
  Result<MountOutcome> mount_blob(const std::string& digest, const std::string& from);
  // Uploads `size` bytes of blob `digest` through `session` (consumed), monolithic or chunked
  // by size (the registry verifies the digest). Retries and resumes as the policy allows.
  Result<void> upload_blob(UploadSession session, const std::string& digest, std::uint64_t size,
                           const BlobOpener& open, const ProgressSink& progress);
  // Uploads a blob whose size and digest are known only once its last byte is read (a layer
  // compressed as it goes): PATCH with a chunked body, hashing every byte sent, then PUT
  // ?digest= with the digest they hash to, which the registry checks. `open` must give the same
  // bytes every time: after a network error the upload resumes at the registry's offset. When
  // the source fails (its bytes do not match their digest), the body ends there, the final PUT
  // is never sent and the session is cancelled. `what` names the blob in messages.
  Result<StreamedBlob> upload_streamed(UploadSession session, const std::string& what,
                                       const BlobOpener& open, const ProgressSink& progress);
  // DELETE the session, within k_cancel_budget. When the registry answers 401 (distribution
  // needs the delete action to cancel a session, and a push token has pull,push), asks once
  // for a token that adds delete on this repository and sends the DELETE again. Fails with the
  // registry's words.
  Result<void> cancel_upload(const UploadSession& session);
  // HEAD /v2/<name>/manifests/<reference>, accepting `media_type` first: the digest the
  // registry reports (Docker-Content-Digest); nullopt on 404 or when it names none. A lookup:
  // one request with `authorization` (an Authorization value the caller already holds), no
  // retry, no renewal, no call into the Authenticator, so that it may run beside a request
  // that uses the Authenticator's own client; at most k_lookup_timeout.
  Result<std::optional<std::string>> head_manifest(const std::string& reference,
                                                   const std::string& media_type,
                                                   const std::optional<std::string>& authorization);
  // PUT /v2/<name>/manifests/<reference> with Content-Type `media_type`.
  Result<ManifestOutcome> put_manifest(const std::string& reference, const std::string& media_type,
                                       const std::string& bytes);

  // Upload sessions this client cancelled after a failure or an interruption, and those it
  // tried to cancel in vain.
  [[nodiscard]] std::size_t cancelled_sessions() const { return m_cancelled; }
  [[nodiscard]] std::size_t uncancelled_sessions() const { return m_uncancelled; }

private:
  // Sends through the stack: Authorization, one renewal on 401, retries with backoff.
  Result<http::Response> send(const http::Request& request);
  // Fails (protocol) unless `response` is the answer of the origin `request` went to, to the
  // request as sent (same method, Authorization still on it when `sender` put one on it): a
  // redirect must not turn a gate, an upload or a manifest PUT into someone else's 2xx.
  Result<void> check_answer(const http::Response& response, const http::Request& request,
                            const auth::AuthorizingClient& sender, const std::string& what) const;
  Result<UploadSession> session_from(const http::Response& response, const std::string& base);
  // The answer to a POST ?mount=: 201 mounted, 202 the session it opened, nullopt otherwise.
  Result<std::optional<MountOutcome>> mount_answer(const http::Response& response,
                                                   const std::string& request_url);
  Result<void> upload_monolithic(UploadSession session, const std::string& digest,
                                 std::uint64_t size, const BlobOpener& open,
                                 const ProgressSink& progress);
  // After the upload through `session` failed with `error` that is not the network's (the
  // source's bytes did not match the digest, a read failed, an interruption): cancels the
  // session and says so in the error.
  Error abandon(const UploadSession& session, const Error& error);
  // The offset to resume an upload at after a failed PATCH, from the registry's Range (GET on
  // the session, whose Location it updates); `acknowledged` decides when Range is "0-0". When
  // the registry no longer knows the session (404), replaces it with a fresh one and returns 0
  // (`acknowledged` too).
  Result<std::uint64_t> resume_offset(UploadSession& session, std::uint64_t& acknowledged,
                                      const std::string& what);
  // Where a PATCH upload stands after one PATCH failed.
  struct PatchRetry {
    int failures = 0;
    bool renewed = false;           // a 401 was met, and the AuthorizingClient renewed
    std::uint64_t acknowledged = 0; // bytes the registry confirmed
  };
  // After a PATCH that failed with `response`: fails when no attempt is left (or the answer is
  // not worth another), else waits the retry delay and returns the stream reopened (`open`,
  // hashed or not) and read up to the registry's offset, the session's Location updated.
  Result<std::shared_ptr<BlobStream>> resume_after(const Result<http::Response>& response,
                                                   UploadSession& session, PatchRetry& retry,
                                                   const BlobOpener& open, bool hashed,
                                                   const std::string& what);
  // After a PATCH the registry accepted: nothing has failed since, `acknowledged` bytes are in,
  // and the session goes on at the newest Location. Fails on a Location that is not one.
  Result<void> accept_patch(const http::Response& response, UploadSession& session,
                            PatchRetry& retry, std::uint64_t acknowledged);
  Result<void> upload_chunked(UploadSession session, const std::string& digest, std::uint64_t size,
                              const BlobOpener& open, const ProgressSink& progress);
  std::string url(const std::string& path) const;

  ClientStack& m_stack;
  std::string m_repository;
  UploadPolicy m_policy;
  std::size_t m_cancelled = 0;
  std::size_t m_uncancelled = 0;
};

// The WWW-Authenticate `error` parameter of a 401, or "".
std::string challenge_error(const http::Response& response);

} // namespace regauth::registry
