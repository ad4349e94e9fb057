#include "regauth/image/oci_layout.hpp"

#include "regauth/image/image_source.hpp"
#include "regauth/oci/digest.hpp"
#include "regauth/oci/media_types.hpp"
#include "regauth/util/safe_file.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

namespace regauth::image {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using oci::k_docker_list;
using oci::k_docker_manifest;
using oci::k_oci_index;
using oci::k_oci_manifest;

constexpr std::string_view k_ref_name = "org.opencontainers.image.ref.name";
// Registries refuse larger manifests (distribution's default limit), so regauth reads no more.
constexpr std::uint64_t k_max_manifest = 4U * 1024U * 1024U;
constexpr std::uint64_t k_max_index_json = 16U * 1024U * 1024U;
// `oci-layout` is one short object ({"imageLayoutVersion":"1.0.0"}); 64 KiB leaves room for
// whitespace and future fields.
constexpr std::uint64_t k_max_oci_layout = 64U * 1024U;
constexpr int k_max_depth = 8;

struct Descriptor {
  std::string media_type; // "" when the descriptor has none
  std::string digest;     // validated
  std::uint64_t size = 0;
  std::string ref_name; // the org.opencontainers.image.ref.name annotation, or ""
};

bool is_index_type(std::string_view type) { return type == k_oci_index || type == k_docker_list; }
bool is_manifest_type(std::string_view type) {
  return type == k_oci_manifest || type == k_docker_manifest;
}

// Non-distributable ("foreign") layers stay out of pushes, as docker and ggcr do by default.
bool is_distributable(std::string_view type) {
  return type.find("nondistributable") == std::string_view::npos &&
         type.find(".foreign.") == std::string_view::npos;
}

// "algorithm:hex" of `bytes` for the algorithms validate_digest accepts.
// Parses an OCI descriptor; `where` names it in messages ("index.json: manifests[1]").
Result<Descriptor> parse_descriptor(const json& value, const std::string& where) {
  auto fail = [&](const std::string& why) {
    return make_error(ErrorKind::protocol, where + ": " + why);
  };
  if (!value.is_object()) {
    return fail("descriptor is not an object");
  }
  Descriptor descriptor;
  auto digest = value.find("digest");
  if (digest == value.end() || !digest->is_string()) {
    return fail("descriptor has no digest");
  }
  descriptor.digest = digest->get<std::string>();
  if (auto valid = oci::validate_digest(descriptor.digest); !valid) {
    return valid.error().with_context(where);
  }
  auto size = value.find("size");
  if (size == value.end() || !(size->is_number_unsigned() || size->is_number_integer()) ||
      (size->is_number_integer() && size->get<std::int64_t>() < 0)) {
    return fail("descriptor " + descriptor.digest + " has no valid size");
  }
  descriptor.size = size->get<std::uint64_t>();
  if (auto type = value.find("mediaType"); type != value.end()) {
    if (!type->is_string()) {
      return fail("descriptor " + descriptor.digest + " has a mediaType that is not a string");
    }
    descriptor.media_type = type->get<std::string>();
  }
  if (auto annotations = value.find("annotations");
      annotations != value.end() && annotations->is_object()) {
    if (auto name = annotations->find(k_ref_name);
        name != annotations->end() && name->is_string()) {
      descriptor.ref_name = name->get<std::string>();
    }
  }
  return descriptor;
}

class FileBlobReader final : public BlobReader {
public:
  explicit FileBlobReader(RegularFile file) : m_file(std::move(file)) {}

  Result<std::size_t> read(char* buffer, std::size_t size) override {
    return m_file.read(buffer, size);
  }

private:
  RegularFile m_file;
};

class OciLayout final : public ImageSource {
public:
  OciLayout(fs::path directory, fs::path root, std::string description)
      : m_directory(std::move(directory)), m_root(std::move(root)),
        m_description(std::move(description)) {}

  [[nodiscard]] const std::vector<BlobDescriptor>& blobs() const override { return m_blobs; }
  [[nodiscard]] const std::vector<Manifest>& manifests() const override { return m_manifests; }
  [[nodiscard]] std::string description() const override { return m_description; }

  [[nodiscard]] std::string blob_location(const BlobDescriptor& blob) const override {
    return blob_path(blob.digest).string();
  }

  Result<std::unique_ptr<BlobReader>> open_blob(const BlobDescriptor& blob) const override {
    if (auto valid = oci::validate_digest(blob.digest); !valid) {
      return valid.error();
    }
    auto file = open_in_layout(blob_path(blob.digest), "blob " + blob.digest, k_no_size_limit);
    if (!file) {
      return file.error();
    }
    return std::unique_ptr<BlobReader>(std::make_unique<FileBlobReader>(std::move(*file)));
  }

  // Reads `oci-layout` and `index.json`, selects the manifest for `tag` and loads it.
  Result<void> load(const std::string& tag) {
    if (auto checked = check_layout_file(); !checked) {
      return checked;
    }
    auto selected = select(tag);
    if (!selected) {
      return selected.error();
    }
    return add_manifest(*selected, 0);
  }

private:
  // Opens a file of the layout through open_regular_file (regular files only, never blocking,
  // at most `max_size` bytes) and refuses one that resolves outside the layout folder (a
  // symbolic link to /etc/passwd, say) before a byte of it is read. `what` names it: "blob
  // sha256:...", "index.json".
  Result<RegularFile> open_in_layout(const fs::path& path, const std::string& what,
                                     std::uint64_t max_size) const {
    auto file = open_regular_file(path, ErrorKind::io, max_size);
    if (!file) {
      if (file.error().kind == ErrorKind::not_found) {
        return make_error(ErrorKind::not_found, m_description + ": " + what + " is missing");
      }
      return file.error().with_context(m_description);
    }
    auto real = file->real_path();
    if (!real) {
      return real.error();
    }
    std::string root = m_root.string();
    if (real->string().compare(0, root.size() + 1, root + "/") != 0) {
      return make_error(ErrorKind::io, m_description + ": " + what + " (" + path.string() +
                                           ") resolves to " + real->string() +
                                           ", outside the layout: refusing to read it");
    }
    return file;
  }

  Result<std::string> read_in_layout(const fs::path& path, const std::string& what,
                                     std::uint64_t max_size) const {
    auto file = open_in_layout(path, what, max_size);
    if (!file) {
      return file.error();
    }
    return read_regular_file(*file, ErrorKind::io, max_size);
  }

  [[nodiscard]] fs::path blob_path(std::string_view digest) const {
    auto colon = digest.find(':');
    return m_directory / "blobs" / std::string(digest.substr(0, colon)) /
           std::string(digest.substr(colon + 1));
  }

  Result<void> check_layout_file() {
    auto path = m_directory / "oci-layout";
    auto text = read_in_layout(path, "oci-layout", k_max_oci_layout);
    if (!text) {
      if (text.error().kind == ErrorKind::not_found) {
        return make_error(ErrorKind::not_found,
                          m_description + ": not an OCI image layout: no oci-layout file");
      }
      return text.error();
    }
    auto value = json::parse(*text, nullptr, false);
    if (value.is_discarded() || !value.is_object() || !value.contains("imageLayoutVersion") ||
        !value["imageLayoutVersion"].is_string()) {
      return make_error(ErrorKind::protocol,
                        path.string() + ": expected an object with imageLayoutVersion");
    }
    return {};
  }

  Result<Descriptor> select(const std::string& tag) {
    auto path = m_directory / "index.json";
    auto text = read_in_layout(path, "index.json", k_max_index_json);
    if (!text) {
      return text.error();
    }
    auto index = json::parse(*text, nullptr, false);
    if (index.is_discarded() || !index.is_object()) {
      return make_error(ErrorKind::protocol, path.string() + ": malformed JSON");
    }
    auto list = index.find("manifests");
    if (list == index.end() || !list->is_array()) {
      return make_error(ErrorKind::protocol, path.string() + ": no manifests array");
    }
    // Every digest is validated here, before any of them names a file.
    std::vector<Descriptor> descriptors;
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto descriptor =
          parse_descriptor((*list)[i], path.string() + ": manifests[" + std::to_string(i) + "]");
      if (!descriptor) {
        return descriptor.error();
      }
      descriptors.push_back(std::move(*descriptor));
    }

    std::vector<const Descriptor*> matches;
    for (const auto& descriptor : descriptors) {
      if (!tag.empty() && descriptor.ref_name == tag) {
        matches.push_back(&descriptor);
      }
    }
    if (matches.size() > 1) {
      return make_error(ErrorKind::protocol, m_description + ": " + std::to_string(matches.size()) +
                                                 " manifests are tagged \"" + tag + "\"");
    }
    if (matches.size() == 1) {
      return *matches.front();
    }
    if (descriptors.size() == 1 && (tag.empty() || descriptors.front().ref_name.empty())) {
      return descriptors.front();
    }
    return make_error(ErrorKind::not_found, no_match_message(tag, descriptors));
  }

  [[nodiscard]] std::string no_match_message(const std::string& tag,
                                             const std::vector<Descriptor>& descriptors) const {
    std::set<std::string> tags;
    for (const auto& descriptor : descriptors) {
      if (!descriptor.ref_name.empty()) {
        tags.insert(descriptor.ref_name);
      }
    }
    std::string available;
    for (const auto& name : tags) {
      available += (available.empty() ? "" : ", ") + name;
    }
    if (available.empty()) {
      available = "none";
    }
    std::string head = m_description + ": no manifest tagged \"" + tag + "\"";
    if (descriptors.empty()) {
      head = m_description + ": index.json lists no manifests";
    } else if (tag.empty()) {
      head = m_description + ": index.json lists " + std::to_string(descriptors.size()) +
             " manifests; name a tag";
    }
    return head + "; available tags: " + available;
  }

  // Reads a manifest blob, checking its size and digest against the descriptor.
  Result<std::string> read_manifest(const Descriptor& descriptor) {
    if (descriptor.size > k_max_manifest) {
      return make_error(ErrorKind::protocol, m_description + ": manifest " + descriptor.digest +
                                                 " is larger than 4 MiB");
    }
    auto bytes = read_in_layout(blob_path(descriptor.digest), "manifest " + descriptor.digest,
                                k_max_manifest);
    if (!bytes) {
      return bytes.error();
    }
    if (bytes->size() != descriptor.size) {
      return make_error(ErrorKind::protocol, m_description + ": manifest " + descriptor.digest +
                                                 " has " + std::to_string(bytes->size()) +
                                                 " bytes, its descriptor says " +
                                                 std::to_string(descriptor.size));
    }
    auto algorithm = std::string_view(descriptor.digest).substr(0, descriptor.digest.find(':'));
    if (auto actual = oci::digest_of(algorithm, *bytes); actual != descriptor.digest) {
      return make_error(ErrorKind::protocol, m_description + ": manifest " + descriptor.digest +
                                                 " has digest " + actual);
    }
    return bytes;
  }

  Result<void> add_manifest(const Descriptor& descriptor, int depth) {
    if (m_seen_manifests.count(descriptor.digest) != 0) {
      return {};
    }
    if (depth > k_max_depth) {
      return make_error(ErrorKind::protocol,
                        m_description + ": image indexes nested more than 8 deep");
    }
    auto bytes = read_manifest(descriptor);
    if (!bytes) {
      return bytes.error();
    }
    const std::string where = m_description + ": manifest " + descriptor.digest;
    auto value = json::parse(*bytes, nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
      return make_error(ErrorKind::protocol, where + ": malformed JSON");
    }
    std::string own_type;
    if (auto type = value.find("mediaType"); type != value.end() && type->is_string()) {
      own_type = type->get<std::string>();
    }
    std::string media_type = descriptor.media_type.empty() ? own_type : descriptor.media_type;
    if (!own_type.empty() && own_type != media_type) {
      return make_error(ErrorKind::protocol, where + ": mediaType " + own_type +
                                                 " differs from its descriptor's " + media_type);
    }
    if (media_type.empty()) {
      media_type = value.contains("manifests") ? k_oci_index : k_oci_manifest;
    }

    bool is_index = is_index_type(media_type);
    if (is_index) {
      auto children = value.find("manifests");
      if (children == value.end() || !children->is_array()) {
        return make_error(ErrorKind::protocol, where + ": no manifests array");
      }
      std::vector<Descriptor> parsed;
      for (std::size_t i = 0; i < children->size(); ++i) {
        auto child =
            parse_descriptor((*children)[i], where + ": manifests[" + std::to_string(i) + "]");
        if (!child) {
          return child.error();
        }
        parsed.push_back(std::move(*child));
      }
      for (const auto& child : parsed) {
        if (auto added = add_manifest(child, depth + 1); !added) {
          return added;
        }
      }
    } else if (is_manifest_type(media_type)) {
      if (auto added = add_image_blobs(value, where); !added) {
        return added;
      }
    } else {
      return make_error(ErrorKind::protocol,
                        where + ": unsupported media type \"" + media_type + "\"");
    }
    m_seen_manifests.insert(descriptor.digest);
    m_manifests.push_back(Manifest{media_type, descriptor.digest, std::move(*bytes), is_index});
    return {};
  }

  Result<void> add_image_blobs(const json& manifest, const std::string& where) {
    auto config = manifest.find("config");
    if (config == manifest.end()) {
      return make_error(ErrorKind::protocol, where + ": no config");
    }
    auto config_descriptor = parse_descriptor(*config, where + ": config");
    if (!config_descriptor) {
      return config_descriptor.error();
    }
    std::vector<Descriptor> layers;
    if (auto list = manifest.find("layers"); list != manifest.end()) {
      if (!list->is_array()) {
        return make_error(ErrorKind::protocol, where + ": layers is not an array");
      }
      for (std::size_t i = 0; i < list->size(); ++i) {
        auto layer = parse_descriptor((*list)[i], where + ": layers[" + std::to_string(i) + "]");
        if (!layer) {
          return layer.error();
        }
        layers.push_back(std::move(*layer));
      }
    }
    if (auto added = add_blob(*config_descriptor); !added) {
      return added;
    }
    for (const auto& layer : layers) {
      if (!is_distributable(layer.media_type)) {
        continue;
      }
      if (auto added = add_blob(layer); !added) {
        return added;
      }
    }
    return {};
  }

  Result<void> add_blob(const Descriptor& descriptor) {
    if (auto seen = m_blob_sizes.find(descriptor.digest); seen != m_blob_sizes.end()) {
      if (seen->second != descriptor.size) {
        return make_error(ErrorKind::protocol, m_description + ": blob " + descriptor.digest +
                                                   " is described with sizes " +
                                                   std::to_string(seen->second) + " and " +
                                                   std::to_string(descriptor.size));
      }
      return {};
    }
    // Opened (and closed) now: a blob that is not a regular file or that leaves the layout
    // stops the push before anything is sent.
    auto file =
        open_in_layout(blob_path(descriptor.digest), "blob " + descriptor.digest, k_no_size_limit);
    if (!file) {
      return file.error();
    }
    auto size = file->size();
    if (size != descriptor.size) {
      return make_error(ErrorKind::protocol, m_description + ": blob " + descriptor.digest +
                                                 " has " + std::to_string(size) +
                                                 " bytes, its descriptor says " +
                                                 std::to_string(descriptor.size));
    }
    m_blob_sizes.emplace(descriptor.digest, descriptor.size);
    m_blobs.push_back(BlobDescriptor{descriptor.digest, descriptor.size, descriptor.media_type});
    return {};
  }

  fs::path m_directory;
  fs::path m_root; // m_directory with every symbolic link resolved
  std::string m_description;
  std::vector<BlobDescriptor> m_blobs;
  std::vector<Manifest> m_manifests;
  std::map<std::string, std::uint64_t> m_blob_sizes;
  std::set<std::string> m_seen_manifests;
};

} // namespace

Result<std::unique_ptr<ImageSource>> open_oci_layout(const std::string& directory,
                                                     const std::string& tag) {
  std::string description = "oci:" + directory + (tag.empty() ? "" : ":" + tag);
  std::error_code error;
  if (!fs::is_directory(directory, error)) {
    return make_error(ErrorKind::not_found, description + ": no such directory");
  }
  auto root = fs::canonical(directory, error);
  if (error) {
    return make_error(ErrorKind::io, description + ": " + error.message());
  }
  auto layout = std::make_unique<OciLayout>(directory, root, description);
  if (auto loaded = layout->load(tag); !loaded) {
    return loaded.error();
  }
  return std::unique_ptr<ImageSource>(std::move(layout));
}

} // namespace regauth::image
