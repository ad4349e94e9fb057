#include "regauth/util/libcrypto.hpp"

#include "regauth/util/dynamic_library.hpp"

namespace regauth {
namespace {

LibCrypto load_crypto() {
  const DynamicLibrary library("libcrypto.so.3");
  LibCrypto api{};
  library.resolve("EVP_EncodeBlock", api.encode_block);
  library.resolve("EVP_ENCODE_CTX_new", api.encode_ctx_new);
  library.resolve("EVP_ENCODE_CTX_free", api.encode_ctx_free);
  library.resolve("EVP_DecodeInit", api.decode_init);
  library.resolve("EVP_DecodeUpdate", api.decode_update);
  library.resolve("EVP_DecodeFinal", api.decode_final);
  library.resolve("EVP_sha256", api.sha256);
  library.resolve("EVP_sha512", api.sha512);
  library.resolve("EVP_Digest", api.digest);
  library.resolve("EVP_MD_CTX_new", api.md_ctx_new);
  library.resolve("EVP_MD_CTX_free", api.md_ctx_free);
  library.resolve("EVP_DigestInit_ex", api.digest_init);
  library.resolve("EVP_DigestUpdate", api.digest_update);
  library.resolve("EVP_DigestFinal_ex", api.digest_final);
  library.resolve("X509_STORE_new", api.store_new);
  library.resolve("X509_STORE_free", api.store_free);
  library.resolve("X509_STORE_load_file", api.store_load_file);
  library.resolve("X509_STORE_load_path", api.store_load_path);
  library.resolve("X509_get_default_cert_file", api.default_cert_file);
  library.resolve("X509_get_default_cert_file_env", api.default_cert_file_env);
  library.resolve("X509_get_default_cert_dir", api.default_cert_dir);
  library.resolve("X509_get_default_cert_dir_env", api.default_cert_dir_env);
  library.resolve("X509_STORE_add_cert", api.store_add_cert);
  library.resolve("PEM_read_X509", api.pem_read_x509);
  library.resolve("X509_free", api.x509_free);
  library.resolve("ERR_clear_error", api.clear_errors);
  library.resolve("OpenSSL_version", api.version);
  library.resolve("BIO_new_mem_buf", api.bio_new_mem_buf);
  library.resolve("BIO_free", api.bio_free);
  library.resolve("PEM_read_bio_PrivateKey", api.pem_read_bio_private_key);
  library.resolve("EVP_PKEY_free", api.pkey_free);
  library.resolve("EVP_DigestSignInit", api.digest_sign_init);
  library.resolve("EVP_DigestSign", api.digest_sign);
  return api;
}

LibSsl load_ssl() {
  const DynamicLibrary library("libssl.so.3");
  LibSsl api{};
  library.resolve("SSL_CTX_set1_cert_store", api.ctx_set1_cert_store);
  library.resolve("SSL_CTX_set_client_cert_cb", api.ctx_set_client_cert_cb);
  return api;
}

LibPsl load_psl() {
  const DynamicLibrary library("libpsl.so.5");
  LibPsl api{};
  library.resolve("psl_builtin", api.builtin);
  library.resolve("psl_registrable_domain", api.registrable_domain);
  library.resolve("psl_get_version", api.get_version);
  return api;
}

} // namespace

const LibCrypto& libcrypto() {
  static const LibCrypto api = load_crypto(); // thread-safe initialisation
  return api;
}

const LibSsl& libssl() {
  static const LibSsl api = load_ssl();
  return api;
}

const LibPsl& libpsl() {
  static const LibPsl api = load_psl();
  return api;
}

} // namespace regauth
