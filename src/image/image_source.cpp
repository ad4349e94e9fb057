#include "regauth/image/image_source.hpp"

#include "regauth/image/docker_archive.hpp"
#include "regauth/image/oci_layout.hpp"
#include "regauth/image/sha256.hpp"

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

} // namespace

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

std::string sha256_digest(std::string_view bytes) { return digest_of("sha256", bytes); }

} // namespace regauth::image
