#include "regauth/base64.hpp"

#include <openssl/evp.h>

#include <memory>

namespace regauth {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> context(EVP_ENCODE_CTX_new(),
                                                                          &EVP_ENCODE_CTX_free);
  if (!context) {
    return std::nullopt;
  }
  std::string stripped;
  stripped.reserve(text.size());
  for (char c : text) {
    if (c != '\n' && c != '\r') {
      stripped += c;
    }
  }
  if (stripped.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out(stripped.size() / 4 * 3 + 3, '\0');
  EVP_DecodeInit(context.get());
  int written = 0;
  if (EVP_DecodeUpdate(context.get(), reinterpret_cast<unsigned char*>(out.data()), &written,
                       reinterpret_cast<const unsigned char*>(stripped.data()),
                       static_cast<int>(stripped.size())) < 0) {
    return std::nullopt;
  }
  int tail = 0;
  if (EVP_DecodeFinal(context.get(), reinterpret_cast<unsigned char*>(out.data()) + written,
                      &tail) < 0) {
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(written + tail));
  return out;
}

} // namespace regauth
