// OpenSSL (libcrypto.so.3, libssl.so.3) and libpsl (libpsl.so.5), loaded on first use with
// dlopen rather than at process start. Linked at start-up, these three (with libpsl's IDN and
// Unicode libraries) are mapped and relocated before main(), which costs commands that hash
// nothing and check no realm (`--version`, `logout`, `ls`) as much as all their own work
// (bench/run measures start-up).
// libcurl loads the same libcrypto and libssl, so a command that speaks HTTP pays nothing more.
// For the libraries in src/ only.
#pragma once

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <libpsl.h>

namespace regauth {

// The libcrypto entry points regauth uses (base64, digests, trust stores).
struct LibCrypto {
  decltype(&::EVP_EncodeBlock) encode_block;
  decltype(&::EVP_ENCODE_CTX_new) encode_ctx_new;
  decltype(&::EVP_ENCODE_CTX_free) encode_ctx_free;
  decltype(&::EVP_DecodeInit) decode_init;
  decltype(&::EVP_DecodeUpdate) decode_update;
  decltype(&::EVP_DecodeFinal) decode_final;
  decltype(&::EVP_sha256) sha256;
  decltype(&::EVP_sha512) sha512;
  decltype(&::EVP_Digest) digest;
  decltype(&::EVP_MD_CTX_new) md_ctx_new;
  decltype(&::EVP_MD_CTX_free) md_ctx_free;
  decltype(&::EVP_DigestInit_ex) digest_init;
  decltype(&::EVP_DigestUpdate) digest_update;
  decltype(&::EVP_DigestFinal_ex) digest_final;
  decltype(&::X509_STORE_new) store_new;
  decltype(&::X509_STORE_free) store_free;
  decltype(&::X509_STORE_load_file) store_load_file;
  decltype(&::X509_STORE_load_path) store_load_path;
  decltype(&::X509_get_default_cert_file) default_cert_file;
  decltype(&::X509_get_default_cert_file_env) default_cert_file_env;
  decltype(&::X509_get_default_cert_dir) default_cert_dir;
  decltype(&::X509_get_default_cert_dir_env) default_cert_dir_env;
  decltype(&::X509_STORE_add_cert) store_add_cert;
  decltype(&::PEM_read_X509) pem_read_x509;
  decltype(&::X509_free) x509_free;
  decltype(&::ERR_clear_error) clear_errors;
  decltype(&::OpenSSL_version) version;
  // RS256 signatures (Google service account JWTs).
  decltype(&::BIO_new_mem_buf) bio_new_mem_buf;
  decltype(&::BIO_free) bio_free;
  decltype(&::PEM_read_bio_PrivateKey) pem_read_bio_private_key;
  decltype(&::EVP_PKEY_free) pkey_free;
  decltype(&::EVP_DigestSignInit) digest_sign_init;
  decltype(&::EVP_DigestSign) digest_sign;
};

// The libssl entry points regauth uses (a connection's trust store and client-certificate
// callback, set from libcurl's SSL_CTX callback).
struct LibSsl {
  decltype(&::SSL_CTX_set1_cert_store) ctx_set1_cert_store;
  decltype(&::SSL_CTX_set_client_cert_cb) ctx_set_client_cert_cb;
};

// The libpsl entry points regauth uses (registrable domains, for the token realm check).
struct LibPsl {
  decltype(&::psl_builtin) builtin;
  decltype(&::psl_registrable_domain) registrable_domain;
  decltype(&::psl_get_version) get_version;
};

// Each loads its library on the first call, thread-safely. A library that cannot be loaded is
// as fatal as a missing library at start-up: regauth prints the loader's message and exits 1.
const LibCrypto& libcrypto();
const LibSsl& libssl();
const LibPsl& libpsl();

} // namespace regauth
