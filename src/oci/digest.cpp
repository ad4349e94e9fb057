#include "regauth/oci/digest.hpp"

#include "regauth/util/libcrypto.hpp"
#include "regauth/util/strings.hpp"

#include <algorithm>
#include <array>

namespace regauth::oci {
namespace {

// "<algorithm>:<lower-case hex>" as registries spell digests.
std::string format_digest(std::string_view algorithm, const unsigned char* hash,
                          unsigned int length) {
  constexpr std::string_view k_hex = "0123456789abcdef";
  std::string out(algorithm);
  out += ':';
  for (unsigned int i = 0; i < length; ++i) {
    out += k_hex[hash[i] >> 4U];
    out += k_hex[hash[i] & 0x0fU];
  }
  return out;
}

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

} // namespace

std::string digest_of(std::string_view algorithm, std::string_view bytes) {
  const LibCrypto& crypto = libcrypto();
  const EVP_MD* md = algorithm == "sha256"   ? crypto.sha256()
                     : algorithm == "sha512" ? crypto.sha512()
                                             : nullptr;
  std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
  unsigned int length = 0;
  if (md == nullptr ||
      crypto.digest(bytes.data(), bytes.size(), hash.data(), &length, md, nullptr) != 1) {
    return "";
  }
  return format_digest(algorithm, hash.data(), length);
}

struct Sha256::Context {
  struct Free {
    void operator()(EVP_MD_CTX* context) const { libcrypto().md_ctx_free(context); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md{libcrypto().md_ctx_new()};
  bool ok = false;

  void start() { ok = md && libcrypto().digest_init(md.get(), libcrypto().sha256(), nullptr) == 1; }
};

Sha256::Sha256() : m_context(std::make_unique<Context>()) { m_context->start(); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::string_view bytes) {
  if (m_context && m_context->ok && !bytes.empty()) {
    m_context->ok = libcrypto().digest_update(m_context->md.get(), bytes.data(), bytes.size()) == 1;
  }
}

std::string Sha256::finish() {
  if (!m_context) {
    return "";
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
  unsigned int length = 0;
  bool ok =
      m_context->ok && libcrypto().digest_final(m_context->md.get(), hash.data(), &length) == 1;
  m_context->start();
  if (!ok) {
    return "";
  }
  return format_digest("sha256", hash.data(), length);
}

struct Digester::Context {
  struct Free {
    void operator()(EVP_MD_CTX* context) const { libcrypto().md_ctx_free(context); }
  };
  std::string algorithm;
  std::unique_ptr<EVP_MD_CTX, Free> md{libcrypto().md_ctx_new()};
  bool ok = false;
};

Digester::Digester(std::string_view algorithm) : m_context(std::make_unique<Context>()) {
  const LibCrypto& crypto = libcrypto();
  const EVP_MD* md = algorithm == "sha256"   ? crypto.sha256()
                     : algorithm == "sha512" ? crypto.sha512()
                                             : nullptr;
  m_context->algorithm = std::string(algorithm);
  m_context->ok =
      md != nullptr && m_context->md && crypto.digest_init(m_context->md.get(), md, nullptr) == 1;
}
Digester::~Digester() = default;
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;

void Digester::update(std::string_view bytes) {
  if (m_context && m_context->ok && !bytes.empty()) {
    m_context->ok = libcrypto().digest_update(m_context->md.get(), bytes.data(), bytes.size()) == 1;
  }
}

std::string Digester::finish() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
  unsigned int length = 0;
  if (!m_context || !m_context->ok ||
      libcrypto().digest_final(m_context->md.get(), hash.data(), &length) != 1) {
    return "";
  }
  m_context->ok = false;
  return format_digest(m_context->algorithm, hash.data(), length);
}

Result<void> validate_digest(std::string_view digest) {
  auto fail = [&](const std::string& why) {
    return make_error(ErrorKind::protocol, "invalid digest " + quote_text(digest) + ": " + why);
  };
  auto colon = digest.find(':');
  if (colon == std::string_view::npos) {
    return fail("expected algorithm:hex");
  }
  auto algorithm = digest.substr(0, colon);
  auto hex = digest.substr(colon + 1);
  std::size_t expected = 0;
  if (algorithm == "sha256") {
    expected = 64;
  } else if (algorithm == "sha512") {
    expected = 128;
  } else {
    return fail("unsupported algorithm " + quote_text(algorithm));
  }
  if (hex.size() != expected || !std::all_of(hex.begin(), hex.end(), is_lower_hex)) {
    return fail(std::string(algorithm) + " needs " + std::to_string(expected) +
                " lower-case hex digits");
  }
  return {};
}

} // namespace regauth::oci
