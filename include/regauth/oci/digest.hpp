// Incremental SHA-256 over OpenSSL EVP, for hashing blobs while they stream. The digest is
// written the way registries spell it: "sha256:<64 lower-case hex>".
#pragma once

#include "regauth/result.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace regauth::oci {

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Adds bytes to the hash.
  void update(std::string_view bytes);
  // Returns "sha256:<hex>" of everything added since construction or the last finish(), and
  // starts over. Returns "" when OpenSSL failed (out of memory), which matches no digest.
  [[nodiscard]] std::string finish();

private:
  struct Context;
  std::unique_ptr<Context> m_context;
};

// Incremental hashing for "sha256" or "sha512", as digests name them.
class Digester {
public:
  // An unknown algorithm gives a digester whose finish() returns "".
  explicit Digester(std::string_view algorithm);
  ~Digester();
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;

  void update(std::string_view bytes);
  // "<algorithm>:<hex>" of everything added; "" when OpenSSL failed. Call once.
  [[nodiscard]] std::string finish();

private:
  struct Context;
  std::unique_ptr<Context> m_context;
};

// "<algorithm>:<hex>" of `bytes` for "sha256" or "sha512"; "" for any other algorithm or when
// OpenSSL fails, which matches no digest.
std::string digest_of(std::string_view algorithm, std::string_view bytes);

// Checks "algorithm:hex": sha256 with 64 lower-case hex, or sha512 with 128. Fails (protocol)
// quoting at most 80 bytes of the bad value.
Result<void> validate_digest(std::string_view digest);

} // namespace regauth::oci
