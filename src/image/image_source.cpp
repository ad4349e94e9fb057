#include "regauth/image/image_source.hpp"

#include "regauth/image/docker_archive.hpp"
#include "regauth/image/oci_layout.hpp"
#include "regauth/oci/digest.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace regauth::image {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_oci_prefix = "oci:";
constexpr std::string_view k_archive_prefix = "docker-archive:";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// "DIR[:TAG]": the tag follows the last ':' when no '/' comes after it.
Result<std::unique_ptr<ImageSource>> open_oci(std::string_view rest) {
  std::string directory(rest);
  std::string tag;
  if (auto colon = rest.rfind(':');
      colon != std::string_view::npos && rest.find('/', colon) == std::string_view::npos) {
    directory = std::string(rest.substr(0, colon));
    tag = std::string(rest.substr(colon + 1));
  }
  if (directory.empty()) {
    return make_error(ErrorKind::usage,
                      "image source \"oci:" + std::string(rest) + "\": expected oci:DIR[:TAG]");
  }
  return open_oci_layout(directory, tag);
}

// "FILE[:REPO:TAG]": FILE as a whole when it exists, else split at its first ':' (as skopeo's
// docker-archive transport does).
Result<std::unique_ptr<ImageSource>> open_archive(std::string_view rest) {
  std::string path(rest);
  std::string repo_tag;
  std::error_code error;
  if (auto colon = rest.find(':'); colon != std::string_view::npos && !fs::exists(path, error)) {
    path = std::string(rest.substr(0, colon));
    repo_tag = std::string(rest.substr(colon + 1));
  }
  if (path.empty()) {
    return make_error(ErrorKind::usage, "image source \"docker-archive:" + std::string(rest) +
                                            "\": expected docker-archive:FILE");
  }
  return open_docker_archive(path, repo_tag);
}

class VerifiedBlobReader final : public BlobReader {
public:
  VerifiedBlobReader(std::unique_ptr<BlobReader> inner, const ImageSource& source,
                     BlobDescriptor blob)
      : m_inner(std::move(inner)), m_source(source), m_blob(std::move(blob)),
        m_digester(std::string_view(m_blob.digest).substr(0, m_blob.digest.find(':'))) {}

  Result<std::size_t> read(char* buffer, std::size_t size) override {
    if (m_offset >= m_blob.size) {
      return std::size_t{0};
    }
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(size, m_blob.size - m_offset));
    auto got = m_inner->read(buffer, want);
    if (!got) {
      return got;
    }
    if (*got == 0) {
      return make_error(ErrorKind::io, "blob " + m_blob.digest + " (" +
                                           m_source.blob_location(m_blob) + ") ended after " +
                                           std::to_string(m_offset) +
                                           " bytes, its descriptor "
                                           "says " +
                                           std::to_string(m_blob.size));
    }
    m_digester.update(std::string_view(buffer, *got));
    m_offset += *got;
    if (m_offset == m_blob.size) {
      if (auto checked = check(m_digester.finish()); !checked) {
        return checked.error(); // these last bytes are never handed over
      }
    }
    return got;
  }

  [[nodiscard]] Result<void> check(const std::string& actual) const {
    if (actual == m_blob.digest) {
      return {};
    }
    return make_error(ErrorKind::protocol,
                      "blob " + m_blob.digest + " (" + m_source.blob_location(m_blob) +
                          ") does not match its digest: its bytes hash to " +
                          (actual.empty() ? std::string("nothing (hashing failed)") : actual));
  }

private:
  std::unique_ptr<BlobReader> m_inner;
  const ImageSource& m_source;
  BlobDescriptor m_blob;
  oci::Digester m_digester;
  std::uint64_t m_offset = 0;
};

} // namespace

Result<std::unique_ptr<BlobReader>> open_verified_blob(const ImageSource& source,
                                                       const BlobDescriptor& blob) {
  auto inner = source.open_blob(blob);
  if (!inner) {
    return inner.error();
  }
  auto reader = std::make_unique<VerifiedBlobReader>(std::move(*inner), source, blob);
  if (blob.size == 0) {
    oci::Digester empty(std::string_view(blob.digest).substr(0, blob.digest.find(':')));
    if (auto checked = reader->check(empty.finish()); !checked) {
      return checked.error();
    }
  }
  return std::unique_ptr<BlobReader>(std::move(reader));
}

Result<std::unique_ptr<ImageSource>> open_image_source(const std::string& source) {
  if (starts_with(source, k_oci_prefix)) {
    return open_oci(std::string_view(source).substr(k_oci_prefix.size()));
  }
  if (starts_with(source, k_archive_prefix)) {
    return open_archive(std::string_view(source).substr(k_archive_prefix.size()));
  }
  std::error_code error;
  if (!source.empty() && fs::is_directory(source, error)) {
    return open_oci_layout(source, "");
  }
  if (ends_with(source, ".tar")) {
    return open_docker_archive(source, "");
  }
  std::string quoted = "\"" + source + "\"";
  if (!source.empty() && source.find(':') == std::string::npos && !fs::exists(source, error)) {
    return make_error(ErrorKind::not_found,
                      "image source " + quoted + ": no such file or directory");
  }
  return make_error(
      ErrorKind::usage,
      "image source " + quoted +
          ": expected oci:DIR[:TAG], docker-archive:FILE, a directory or a .tar file");
}

std::string sha256_digest(std::string_view bytes) { return oci::digest_of("sha256", bytes); }

} // namespace regauth::image
