#include "regauth/image/docker_archive.hpp"

#include "regauth/image/image_source.hpp"
#include "regauth/oci/digest.hpp"
#include "regauth/oci/media_types.hpp"
#include "regauth/util/safe_file.hpp"

#include "libarchive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <unistd.h>

// `docker save` writes manifest.json as an array of {"Config", "RepoTags", "Layers"} with paths
// inside the tarball (moby image/tarexport/save.go). Before Docker 25 they are `<id>/layer.tar`
// and `<config hex>.json`, identical layers shared through symlinks; since Docker 25 they are
// `blobs/sha256/<hex>` of an OCI layout written beside it.
//
// Opening reads the archive once, skipping file data (libarchive seeks over it in a regular
// file): manifest.json comes last, so every file leaves its size, its first bytes and, for a
// small JSON object (a config), its bytes. A layer's digest is then taken from what the archive
// states, since every blob is checked against its digest as it streams (open_verified_blob):
// a `blobs/sha256/<hex>` file is named by its digest, and a legacy uncompressed layer.tar is
// the config's `rootfs.diff_ids` entry for it. Only layers with neither (a compressed layer.tar,
// diff_ids that do not line up) are hashed, in a second pass.
namespace regauth::image {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using oci::k_layer_gzip;
using oci::k_layer_tar;
using oci::k_layer_zstd;
using oci::k_oci_config;
using oci::k_oci_manifest;

constexpr std::size_t k_max_json = 16U * 1024U * 1024U;
// Small JSON objects kept from the catalog pass, all together; a config beyond it is read in a
// second pass.
constexpr std::size_t k_max_kept = 2U * k_max_json;
constexpr std::size_t k_block = 64U * 1024U;
constexpr std::size_t k_head = 4; // enough for the gzip and zstd magic
constexpr std::string_view k_blob_prefix = "blobs/sha256/";
constexpr int k_max_link_hops = 16;

// Frees the archive, then closes the file it reads (libarchive leaves a descriptor open).
struct ArchiveFree {
  int fd = -1;
  void operator()(archive* handle) const {
    libarchive().read_free(handle);
    if (fd >= 0) {
      ::close(fd);
    }
  }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

Result<ArchivePtr> open_archive(const std::string& path) {
  // A regular file only, opened without blocking: a FIFO named as the tarball is refused.
  auto file = open_regular_file(path, ErrorKind::io);
  if (!file) {
    return file.error();
  }
  int fd = file->release();
  ArchivePtr handle(libarchive().read_new(), ArchiveFree{fd});
  if (!handle) {
    ::close(fd);
    return make_error(ErrorKind::io, "reading " + path + ": out of memory");
  }
  libarchive().read_support_format_tar(handle.get());
  // `docker save | gzip` is common and `docker load` takes it; compressed tarballs work too.
  libarchive().read_support_filter_gzip(handle.get());
  libarchive().read_support_filter_bzip2(handle.get());
  libarchive().read_support_filter_xz(handle.get());
  libarchive().read_support_filter_zstd(handle.get());
  if (libarchive().read_open_fd(handle.get(), handle.get_deleter().fd, k_block) != ARCHIVE_OK) {
    const char* why = libarchive().error_string(handle.get());
    return make_error(ErrorKind::io, "reading " + path + ": " + (why ? why : "cannot open"));
  }
  return handle;
}

Error archive_error(const std::string& path, archive* handle) {
  const char* why = libarchive().error_string(handle);
  return make_error(ErrorKind::io, "reading " + path + ": " + (why ? why : "read error"));
}

// Collapses "./", "." and ".." of a path inside the archive; nullopt when it leaves the root.
std::optional<std::string> normalize(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto part = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (part == "..") {
      if (parts.empty()) {
        return std::nullopt;
      }
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  std::string out;
  for (auto part : parts) {
    out += (out.empty() ? "" : "/") + std::string(part);
  }
  return out;
}

std::string entry_name(archive_entry* entry) {
  const char* name = libarchive().entry_pathname(entry);
  return normalize(name ? name : "").value_or("");
}

// One regular file of the archive, as the catalog pass sees it.
struct CatalogEntry {
  std::uint64_t size = 0;           // from its tar header
  std::string head;                 // its first k_head bytes (all of them when shorter)
  std::optional<std::string> bytes; // all of them, for a small JSON object (a config candidate)
};

// What the catalog pass learns: manifest.json's bytes and the entries with their link targets.
struct Catalog {
  std::string manifest_json;
  bool has_manifest = false;
  std::map<std::string, CatalogEntry> files; // regular files, the first entry of each name
  std::map<std::string, std::string> links;  // symlinks and hard links, resolved to root paths
};

// Appends the rest of the current entry's data to `out`.
Result<void> read_rest(const std::string& path, archive* handle, std::string& out) {
  std::array<char, k_block> buffer{};
  la_ssize_t n = 0;
  while ((n = libarchive().read_data(handle, buffer.data(), buffer.size())) > 0) {
    out.append(buffer.data(), static_cast<std::size_t>(n));
  }
  if (n < 0) {
    return archive_error(path, handle);
  }
  return {};
}

// Reads the first k_head bytes of the current entry (fewer when it is shorter).
Result<std::string> read_head(const std::string& path, archive* handle) {
  std::array<char, k_head> buffer{};
  std::string head;
  while (head.size() < k_head) {
    auto n = libarchive().read_data(handle, buffer.data(), k_head - head.size());
    if (n < 0) {
      return archive_error(path, handle);
    }
    if (n == 0) {
      break;
    }
    head.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return head;
}

// Reads the archive once: the data of every file but manifest.json and small JSON objects is
// skipped after its first bytes.
Result<Catalog> read_catalog(const std::string& path) {
  auto handle = open_archive(path);
  if (!handle) {
    return handle.error();
  }
  Catalog catalog;
  std::size_t kept = 0;
  archive_entry* entry = nullptr;
  int status = 0;
  while ((status = libarchive().read_next_header(handle->get(), &entry)) == ARCHIVE_OK ||
         status == ARCHIVE_WARN) {
    auto name = entry_name(entry);
    if (name.empty()) {
      continue;
    }
    if (const char* hardlink = libarchive().entry_hardlink(entry); hardlink != nullptr) {
      if (auto target = normalize(hardlink)) {
        catalog.links[name] = *target;
      }
      continue;
    }
    auto type = libarchive().entry_filetype(entry);
    if (type == AE_IFLNK) {
      const char* target = libarchive().entry_symlink(entry);
      auto parent = fs::path(name).parent_path().string();
      if (target != nullptr && target[0] != '/') {
        if (auto resolved = normalize(parent + "/" + target)) {
          catalog.links[name] = *resolved;
        }
      }
      continue;
    }
    if (type != AE_IFREG || catalog.files.count(name) != 0) {
      continue;
    }
    auto size = static_cast<std::uint64_t>(std::max<la_int64_t>(0, libarchive().entry_size(entry)));
    if (name == "manifest.json") {
      if (size > k_max_json) {
        return make_error(ErrorKind::protocol, path + ": manifest.json is larger than 16 MiB");
      }
      if (auto read = read_rest(path, handle->get(), catalog.manifest_json); !read) {
        return read.error();
      }
      catalog.has_manifest = true;
      catalog.files[name] = CatalogEntry{size, catalog.manifest_json.substr(0, k_head), {}};
      continue;
    }
    auto head = read_head(path, handle->get());
    if (!head) {
      return head.error();
    }
    CatalogEntry file{size, std::move(*head), {}};
    if (!file.head.empty() && file.head[0] == '{' && size <= k_max_json &&
        kept + size <= k_max_kept) {
      std::string bytes = file.head;
      if (auto read = read_rest(path, handle->get(), bytes); !read) {
        return read.error();
      }
      kept += bytes.size();
      file.bytes = std::move(bytes);
    }
    catalog.files.emplace(name, std::move(file));
  }
  if (status != ARCHIVE_EOF) {
    return archive_error(path, handle->get());
  }
  return catalog;
}

// Follows links from a path manifest.json names to a regular file; nullopt when there is none.
std::optional<std::string> resolve(const Catalog& catalog, const std::string& raw) {
  auto path = normalize(raw);
  for (int hop = 0; path && hop <= k_max_link_hops; ++hop) {
    if (catalog.files.count(*path) != 0) {
      return path;
    }
    auto link = catalog.links.find(*path);
    if (link == catalog.links.end()) {
      return std::nullopt;
    }
    path = link->second;
  }
  return std::nullopt;
}

struct ImageEntry {
  std::string config;              // path inside the archive, as manifest.json gives it
  std::vector<std::string> layers; // same
};

std::string repo_tags_of(const json& entry) {
  std::string out;
  if (auto tags = entry.find("RepoTags"); tags != entry.end() && tags->is_array()) {
    for (const auto& tag : *tags) {
      if (tag.is_string()) {
        out += (out.empty() ? "" : ", ") + tag.get<std::string>();
      }
    }
  }
  return out;
}

bool has_repo_tag(const json& entry, const std::string& wanted) {
  auto tags = entry.find("RepoTags");
  if (tags == entry.end() || !tags->is_array()) {
    return false;
  }
  return std::any_of(tags->begin(), tags->end(), [&](const json& tag) {
    return tag.is_string() && tag.get<std::string>() == wanted;
  });
}

Result<ImageEntry> choose_entry(const std::string& text, const std::string& repo_tag,
                                const std::string& description) {
  auto fail = [&](const std::string& why) {
    return make_error(ErrorKind::protocol, description + ": manifest.json: " + why);
  };
  auto manifest = json::parse(text, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_array()) {
    return fail("expected a JSON array");
  }
  if (manifest.empty()) {
    return fail("lists no images");
  }
  const json* chosen = nullptr;
  if (repo_tag.empty()) {
    chosen = &manifest.front();
  } else {
    // "app" means "app:latest", as docker does; a ':' after the last '/' is a tag.
    auto slash = repo_tag.rfind('/');
    bool has_tag = repo_tag.find(':', slash == std::string::npos ? 0 : slash) != std::string::npos;
    std::string wanted = has_tag ? repo_tag : repo_tag + ":latest";
    for (const auto& entry : manifest) {
      if (entry.is_object() && has_repo_tag(entry, wanted)) {
        chosen = &entry;
        break;
      }
    }
    if (chosen == nullptr) {
      std::string available;
      for (const auto& entry : manifest) {
        if (entry.is_object()) {
          auto tags = repo_tags_of(entry);
          if (!tags.empty()) {
            available += (available.empty() ? "" : ", ") + tags;
          }
        }
      }
      return make_error(ErrorKind::not_found,
                        description + ": no image tagged \"" + wanted +
                            "\"; available tags: " + (available.empty() ? "none" : available));
    }
  }
  if (!chosen->is_object()) {
    return fail("entry is not an object");
  }
  ImageEntry image;
  auto config = chosen->find("Config");
  if (config == chosen->end() || !config->is_string()) {
    return fail("entry has no Config");
  }
  image.config = config->get<std::string>();
  auto layers = chosen->find("Layers");
  if (layers == chosen->end() || !layers->is_array()) {
    return fail("entry has no Layers");
  }
  for (const auto& layer : *layers) {
    if (!layer.is_string()) {
      return fail("Layers holds something other than a path");
    }
    image.layers.push_back(layer.get<std::string>());
  }
  return image;
}

// What hashing learns about one file of the archive.
struct Hashed {
  std::string digest;
  std::uint64_t size = 0;
};

std::string layer_media_type(std::string_view head) {
  if (head.size() >= 2 && head.substr(0, 2) == "\x1f\x8b") {
    return std::string(k_layer_gzip);
  }
  if (head.size() >= 4 && head.substr(0, 4) == "\x28\xb5\x2f\xfd") {
    return std::string(k_layer_zstd);
  }
  return std::string(k_layer_tar);
}

class MemoryBlobReader final : public BlobReader {
public:
  explicit MemoryBlobReader(std::string_view bytes) : m_bytes(bytes) {}
  Result<std::size_t> read(char* buffer, std::size_t size) override {
    auto n = std::min(size, m_bytes.size() - m_offset);
    std::copy_n(m_bytes.data() + m_offset, n, buffer);
    m_offset += n;
    return n;
  }

private:
  std::string_view m_bytes;
  std::size_t m_offset = 0;
};

class ArchiveBlobReader final : public BlobReader {
public:
  ArchiveBlobReader(ArchivePtr handle, std::string path)
      : m_handle(std::move(handle)), m_path(std::move(path)) {}
  Result<std::size_t> read(char* buffer, std::size_t size) override {
    auto n = libarchive().read_data(m_handle.get(), buffer, size);
    if (n < 0) {
      return archive_error(m_path, m_handle.get());
    }
    return static_cast<std::size_t>(n);
  }

private:
  ArchivePtr m_handle;
  std::string m_path;
};

class DockerArchive final : public ImageSource {
public:
  DockerArchive(std::string path, std::string description)
      : m_path(std::move(path)), m_description(std::move(description)) {}

  [[nodiscard]] const std::vector<BlobDescriptor>& blobs() const override { return m_blobs; }
  [[nodiscard]] const std::vector<Manifest>& manifests() const override { return m_manifests; }
  [[nodiscard]] std::string description() const override { return m_description; }

  [[nodiscard]] std::string blob_location(const BlobDescriptor& blob) const override {
    auto where = m_entry_of.find(blob.digest);
    return m_path + (where == m_entry_of.end() ? std::string(" (config)") : ": " + where->second);
  }

  Result<std::unique_ptr<BlobReader>> open_blob(const BlobDescriptor& blob) const override {
    if (blob.digest == m_config_digest) {
      return std::unique_ptr<BlobReader>(std::make_unique<MemoryBlobReader>(m_config));
    }
    auto where = m_entry_of.find(blob.digest);
    if (where == m_entry_of.end()) {
      return make_error(ErrorKind::not_found, m_description + ": no blob " + blob.digest);
    }
    auto handle = open_archive(m_path);
    if (!handle) {
      return handle.error();
    }
    archive_entry* entry = nullptr;
    int status = 0;
    while ((status = libarchive().read_next_header(handle->get(), &entry)) == ARCHIVE_OK ||
           status == ARCHIVE_WARN) {
      if (libarchive().entry_filetype(entry) == AE_IFREG &&
          libarchive().entry_hardlink(entry) == nullptr && entry_name(entry) == where->second) {
        return std::unique_ptr<BlobReader>(
            std::make_unique<ArchiveBlobReader>(std::move(*handle), m_path));
      }
    }
    if (status != ARCHIVE_EOF) {
      return archive_error(m_path, handle->get());
    }
    return make_error(ErrorKind::not_found,
                      m_description + ": " + where->second + " vanished from the archive");
  }

  Result<void> load(const std::string& repo_tag) {
    auto catalog = read_catalog(m_path);
    if (!catalog) {
      return catalog.error();
    }
    if (!catalog->has_manifest) {
      return make_error(ErrorKind::protocol,
                        m_description + ": not a docker save archive: no manifest.json");
    }
    auto image = choose_entry(catalog->manifest_json, repo_tag, m_description);
    if (!image) {
      return image.error();
    }
    auto resolve_named = [&](const std::string& raw) -> Result<std::string> {
      auto resolved = resolve(*catalog, raw);
      if (!resolved) {
        return make_error(ErrorKind::not_found,
                          m_description + ": manifest.json names " + raw + ", which is missing");
      }
      return *resolved;
    };
    auto config_path = resolve_named(image->config);
    if (!config_path) {
      return config_path.error();
    }
    std::vector<std::string> layer_paths;
    for (const auto& layer : image->layers) {
      auto resolved = resolve_named(layer);
      if (!resolved) {
        return resolved.error();
      }
      layer_paths.push_back(std::move(*resolved));
    }

    const auto& config = catalog->files.at(*config_path);
    if (config.size > k_max_json) {
      return make_error(ErrorKind::protocol,
                        m_description + ": config " + *config_path + " is larger than 16 MiB");
    }
    if (config.bytes) {
      m_config = *config.bytes;
    } else if (auto read = hash_entries({*config_path}, *config_path); !read) {
      return read.error();
    }
    m_config_digest = sha256_digest(m_config);
    if (auto checked = check_blob_name(*config_path, m_config_digest); !checked) {
      return checked;
    }

    // The digest of each layer file, where the archive states it; the others are hashed.
    auto diff_ids = diff_ids_of(m_config, layer_paths.size());
    std::map<std::string, std::string> stated; // path -> digest
    std::set<std::string> unknown;
    for (std::size_t i = 0; i < layer_paths.size(); ++i) {
      const auto& path = layer_paths[i];
      std::string digest = blob_name_digest(path);
      if (digest.empty() && !diff_ids.empty() &&
          layer_media_type(catalog->files.at(path).head) == k_layer_tar) {
        digest = diff_ids[i]; // the digest of an uncompressed layer is its diff_id
      }
      auto [known, inserted] = stated.emplace(path, digest);
      if (digest.empty() || (!inserted && known->second != digest)) {
        unknown.insert(path); // nothing stated, or one file under two diff_ids: its bytes decide
      }
    }
    if (!unknown.empty()) {
      auto hashed = hash_entries(unknown, "");
      if (!hashed) {
        return hashed.error();
      }
      for (const auto& path : unknown) {
        auto result = hashed->find(path);
        if (result == hashed->end()) {
          return make_error(ErrorKind::not_found,
                            m_description + ": " + path + " vanished from the archive");
        }
        if (auto checked = check_blob_name(path, result->second.digest); !checked) {
          return checked;
        }
        stated[path] = result->second.digest;
      }
    }
    build(*catalog, stated, layer_paths);
    return {};
  }

private:
  // Streams the archive once: hashes the wanted files and keeps the bytes of `config_path`.
  Result<std::map<std::string, Hashed>> hash_entries(const std::set<std::string>& wanted,
                                                     const std::string& config_path) {
    auto handle = open_archive(m_path);
    if (!handle) {
      return handle.error();
    }
    std::map<std::string, Hashed> hashed;
    std::array<char, k_block> buffer{};
    archive_entry* entry = nullptr;
    int status = 0;
    while ((status = libarchive().read_next_header(handle->get(), &entry)) == ARCHIVE_OK ||
           status == ARCHIVE_WARN) {
      if (libarchive().entry_filetype(entry) != AE_IFREG ||
          libarchive().entry_hardlink(entry) != nullptr) {
        continue;
      }
      auto name = entry_name(entry);
      if (wanted.count(name) == 0 || hashed.count(name) != 0) {
        continue;
      }
      bool is_config = name == config_path;
      oci::Sha256 hash;
      Hashed result;
      la_ssize_t n = 0;
      while ((n = libarchive().read_data(handle->get(), buffer.data(), buffer.size())) > 0) {
        std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
        hash.update(chunk);
        result.size += chunk.size();
        if (is_config) {
          m_config.append(chunk);
        }
      }
      if (n < 0) {
        return archive_error(m_path, handle->get());
      }
      result.digest = hash.finish();
      hashed.emplace(name, std::move(result));
      if (hashed.size() == wanted.size()) {
        return hashed; // the rest of the archive is of no interest
      }
    }
    if (status != ARCHIVE_EOF) {
      return archive_error(m_path, handle->get());
    }
    return hashed;
  }

  // The digest a `blobs/sha256/<hex>` path names, when it is a valid one; "" otherwise.
  static std::string blob_name_digest(const std::string& path) {
    if (path.rfind(k_blob_prefix, 0) != 0) {
      return "";
    }
    auto digest = "sha256:" + path.substr(k_blob_prefix.size());
    return oci::validate_digest(digest) ? digest : "";
  }

  // A `blobs/sha256/<hex>` file must hold what its name says.
  Result<void> check_blob_name(const std::string& path, const std::string& digest) const {
    if (path.rfind(k_blob_prefix, 0) == 0 &&
        "sha256:" + path.substr(k_blob_prefix.size()) != digest) {
      return make_error(ErrorKind::protocol, m_description + ": " + path + " has digest " + digest);
    }
    return {};
  }

  // The config's `rootfs.diff_ids` when it lists `count` valid digests; empty otherwise.
  static std::vector<std::string> diff_ids_of(const std::string& config, std::size_t count) {
    auto parsed = json::parse(config, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return {};
    }
    auto rootfs = parsed.find("rootfs");
    if (rootfs == parsed.end() || !rootfs->is_object()) {
      return {};
    }
    auto listed = rootfs->find("diff_ids");
    if (listed == rootfs->end() || !listed->is_array() || listed->size() != count) {
      return {};
    }
    std::vector<std::string> out;
    for (const auto& diff_id : *listed) {
      if (!diff_id.is_string() || !oci::validate_digest(diff_id.get<std::string>())) {
        return {};
      }
      out.push_back(diff_id.get<std::string>());
    }
    return out;
  }

  void build(const Catalog& catalog, const std::map<std::string, std::string>& digests,
             const std::vector<std::string>& layer_paths) {
    std::uint64_t config_size = m_config.size();
    m_blobs.push_back(BlobDescriptor{m_config_digest, config_size, std::string(k_oci_config)});

    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    std::set<std::string> seen{m_config_digest};
    for (const auto& path : layer_paths) {
      const auto& file = catalog.files.at(path);
      const auto& digest = digests.at(path);
      auto media_type = layer_media_type(file.head);
      layers.push_back({{"mediaType", media_type}, {"digest", digest}, {"size", file.size}});
      if (seen.insert(digest).second) {
        m_blobs.push_back(BlobDescriptor{digest, file.size, media_type});
        m_entry_of.emplace(digest, path);
      }
    }
    nlohmann::ordered_json manifest = {
        {"schemaVersion", 2},
        {"mediaType", k_oci_manifest},
        {"config",
         {{"mediaType", k_oci_config}, {"digest", m_config_digest}, {"size", config_size}}},
        {"layers", layers},
    };
    auto bytes = manifest.dump();
    auto digest = sha256_digest(bytes);
    m_manifests.push_back(Manifest{std::string(k_oci_manifest), digest, std::move(bytes), false});
  }

  std::string m_path;
  std::string m_description;
  std::string m_config;
  std::string m_config_digest;
  std::map<std::string, std::string> m_entry_of; // layer digest -> path inside the archive
  std::vector<BlobDescriptor> m_blobs;
  std::vector<Manifest> m_manifests;
};

} // namespace

Result<std::unique_ptr<ImageSource>> open_docker_archive(const std::string& path,
                                                         const std::string& repo_tag) {
  std::string description = "docker-archive:" + path + (repo_tag.empty() ? "" : ":" + repo_tag);
  if (auto file = open_regular_file(path, ErrorKind::io); !file) {
    if (file.error().kind == ErrorKind::not_found) {
      return make_error(ErrorKind::not_found, description + ": no such file");
    }
    return file.error();
  }
  auto source = std::make_unique<DockerArchive>(path, description);
  if (auto loaded = source->load(repo_tag); !loaded) {
    return loaded.error();
  }
  return std::unique_ptr<ImageSource>(std::move(source));
}

} // namespace regauth::image
