#include "regauth/util/base64.hpp"

#include "regauth/util/libcrypto.hpp"

#include <memory>

namespace regauth {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = libcrypto().encode_block(reinterpret_cast<unsigned char*>(out.data()),
                                         reinterpret_cast<const unsigned char*>(bytes.data()),
                                         static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  const LibCrypto& crypto = libcrypto();
  std::unique_ptr<EVP_ENCODE_CTX, decltype(crypto.encode_ctx_free)> context(crypto.encode_ctx_new(),
                                                                            crypto.encode_ctx_free);
  if (!context) {
    return std::nullopt;
  }
  // Line breaks are left out; text without any (every `auth` value) is decoded where it is.
  std::string without_breaks;
  std::string_view stripped = text;
  if (text.find_first_of("\r\n") != std::string_view::npos) {
    without_breaks.reserve(text.size());
    for (char c : text) {
      if (c != '\n' && c != '\r') {
        without_breaks += c;
      }
    }
    stripped = without_breaks;
  }
  if (stripped.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out(stripped.size() / 4 * 3 + 3, '\0');
  crypto.decode_init(context.get());
  int written = 0;
  if (crypto.decode_update(context.get(), reinterpret_cast<unsigned char*>(out.data()), &written,
                           reinterpret_cast<const unsigned char*>(stripped.data()),
                           static_cast<int>(stripped.size())) < 0) {
    return std::nullopt;
  }
  int tail = 0;
  if (crypto.decode_final(context.get(), reinterpret_cast<unsigned char*>(out.data()) + written,
                          &tail) < 0) {
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(written + tail));
  return out;
}

std::string encode_basic_auth(std::string_view username, std::string_view password) {
  std::string plain;
  plain.reserve(username.size() + 1 + password.size());
  plain.append(username).append(":").append(password);
  return base64_encode(plain);
}

std::string basic_authorization(std::string_view username, std::string_view password) {
  return "Basic " + encode_basic_auth(username, password);
}

} // namespace regauth
