#include "regauth/image/compressed_source.hpp"

#include "regauth/oci/digest.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <set>
#include <thread>

namespace regauth::image {
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr std::size_t k_block = 256U * 1024U;

class MemoryReader final : public BlobReader {
public:
  explicit MemoryReader(std::shared_ptr<const std::string> bytes) : m_bytes(std::move(bytes)) {}
  Result<std::size_t> read(char* buffer, std::size_t size) override {
    auto n = std::min(size, m_bytes->size() - m_offset);
    std::memcpy(buffer, m_bytes->data() + m_offset, n);
    m_offset += n;
    return n;
  }

private:
  std::shared_ptr<const std::string> m_bytes;
  std::size_t m_offset = 0;
};

// One layer to compress, and what compressing it gave.
struct Job {
  BlobDescriptor original;
  std::string key; // in the blob-info cache
  CompressedBlob result;
  std::shared_ptr<const std::string> bytes; // kept when the memory budget allowed
  std::optional<Error> error;
};

class CompressedSource final : public ImageSource {
public:
  CompressedSource(std::unique_ptr<ImageSource> inner, const CompressionSettings& settings)
      : m_inner(std::move(inner)), m_settings(settings) {}

  [[nodiscard]] const std::vector<BlobDescriptor>& blobs() const override { return m_blobs; }
  [[nodiscard]] const std::vector<Manifest>& manifests() const override { return m_manifests; }
  [[nodiscard]] std::string description() const override { return m_inner->description(); }

  [[nodiscard]] std::string blob_location(const BlobDescriptor& blob) const override {
    auto origin = m_origin.find(blob.digest);
    if (origin == m_origin.end()) {
      return m_inner->blob_location(blob);
    }
    return m_inner->blob_location(origin->second.original) + ", compressed with " +
           std::string(to_string(m_settings.compression));
  }

  Result<std::unique_ptr<BlobReader>> open_blob(const BlobDescriptor& blob) const override {
    auto origin = m_origin.find(blob.digest);
    if (origin == m_origin.end()) {
      return m_inner->open_blob(blob);
    }
    if (origin->second.bytes) {
      return std::unique_ptr<BlobReader>(std::make_unique<MemoryReader>(origin->second.bytes));
    }
    // Compressed again as it is sent: the same bytes, which the push checks against the digest.
    auto reader = open_verified_blob(*m_inner, origin->second.original);
    if (!reader) {
      return reader.error();
    }
    auto compressor = make_compressor(m_settings.compression, m_settings.level);
    if (!compressor) {
      return compressor.error();
    }
    return make_compressing_reader(std::move(*reader), std::move(*compressor));
  }

  struct Origin {
    BlobDescriptor original;
    std::shared_ptr<const std::string> bytes;
  };

  std::unique_ptr<ImageSource> m_inner;
  CompressionSettings m_settings;
  std::vector<BlobDescriptor> m_blobs;
  std::vector<Manifest> m_manifests;
  std::map<std::string, Origin> m_origin; // compressed digest -> its source
};

// Compresses one layer: streams it from the source (its digest checked), hashes the output,
// keeps it in memory while `budget` lasts.
void compress_one(const ImageSource& source, const CompressionSettings& settings, Job& job,
                  std::atomic<std::int64_t>& budget, unsigned threads) {
  auto reader = open_verified_blob(source, job.original);
  if (!reader) {
    job.error = reader.error();
    return;
  }
  auto compressor = make_compressor(settings.compression, settings.level, threads);
  if (!compressor) {
    job.error = compressor.error();
    return;
  }
  oci::Sha256 hash;
  auto kept = std::make_shared<std::string>();
  bool keep = true;
  std::string output;
  std::array<char, k_block> buffer{};
  while (true) {
    auto got = (*reader)->read(buffer.data(), buffer.size());
    if (!got) {
      job.error = got.error();
      return;
    }
    output.clear();
    auto written = *got == 0 ? (*compressor)->finish(output)
                             : (*compressor)->write(std::string_view(buffer.data(), *got), output);
    if (!written) {
      job.error = written.error().with_context("compressing " + source.blob_location(job.original));
      return;
    }
    hash.update(output);
    job.result.size += output.size();
    if (keep) {
      if (budget.fetch_sub(static_cast<std::int64_t>(output.size())) <
          static_cast<std::int64_t>(output.size())) {
        keep = false; // over budget: the upload compresses it again
        budget.fetch_add(static_cast<std::int64_t>(job.result.size));
        kept.reset();
      } else {
        kept->append(output);
      }
    }
    if (*got == 0) {
      break;
    }
  }
  job.result.digest = hash.finish();
  if (keep) {
    job.bytes = std::move(kept);
  }
}

// Docker (schema 2) media types and their OCI twins, as skopeo converts them.
const std::map<std::string, std::string>& oci_media_types() {
  static const std::map<std::string, std::string> types = {
      {"application/vnd.docker.distribution.manifest.v2+json",
       "application/vnd.oci.image.manifest.v1+json"},
      {"application/vnd.docker.distribution.manifest.list.v2+json",
       "application/vnd.oci.image.index.v1+json"},
      {"application/vnd.docker.container.image.v1+json",
       "application/vnd.oci.image.config.v1+json"},
      {"application/vnd.docker.image.rootfs.diff.tar", "application/vnd.oci.image.layer.v1.tar"},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip",
       "application/vnd.oci.image.layer.v1.tar+gzip"},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
       "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
  };
  return types;
}

// Gives a Docker manifest or manifest list, and the descriptors in it, their OCI media types.
// Returns whether anything changed.
bool convert_to_oci(ordered_json& value) {
  bool changed = false;
  auto convert = [&](ordered_json& holder) {
    if (!holder.is_object() || !holder.contains("mediaType") || !holder["mediaType"].is_string()) {
      return;
    }
    auto twin = oci_media_types().find(holder["mediaType"].get<std::string>());
    if (twin != oci_media_types().end()) {
      holder["mediaType"] = twin->second;
      changed = true;
    }
  };
  convert(value);
  if (auto config = value.find("config"); config != value.end()) {
    convert(*config);
  }
  for (const char* list : {"layers", "manifests"}) {
    if (auto entries = value.find(list); entries != value.end() && entries->is_array()) {
      for (auto& entry : *entries) {
        convert(entry);
      }
    }
  }
  return changed;
}

} // namespace

Result<std::vector<Manifest>> rewrite_manifests(const std::vector<Manifest>& manifests,
                                                const LayerRewrites& rewrites, bool to_oci) {
  std::vector<Manifest> out;
  std::map<std::string, std::pair<std::string, std::uint64_t>> renamed; // old -> new digest, size
  for (const auto& manifest : manifests) {
    auto value = ordered_json::parse(manifest.bytes, nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
      return make_error(ErrorKind::protocol, "manifest " + manifest.digest + ": malformed JSON");
    }
    bool changed = false;
    if (to_oci) {
      changed = convert_to_oci(value);
    }
    auto update = [&](ordered_json& descriptor, bool is_layer) {
      if (!descriptor.is_object() || !descriptor.contains("digest") ||
          !descriptor["digest"].is_string()) {
        return;
      }
      auto digest = descriptor["digest"].get<std::string>();
      if (is_layer) {
        auto rewrite = rewrites.find(digest);
        auto type = descriptor.value("mediaType", std::string());
        if (rewrite != rewrites.end() && is_uncompressed_layer(type)) {
          descriptor["mediaType"] = rewrite->second.media_type;
          descriptor["digest"] = rewrite->second.digest;
          descriptor["size"] = rewrite->second.size;
          changed = true;
        }
      } else if (auto child = renamed.find(digest); child != renamed.end()) {
        descriptor["digest"] = child->second.first;
        descriptor["size"] = child->second.second;
        changed = true;
      }
    };
    auto list = value.find(manifest.is_index ? "manifests" : "layers");
    if (list != value.end() && list->is_array()) {
      for (auto& descriptor : *list) {
        update(descriptor, !manifest.is_index);
      }
    }
    if (!changed) {
      out.push_back(manifest);
      continue;
    }
    Manifest rewritten = manifest;
    rewritten.media_type = value.value("mediaType", manifest.media_type);
    rewritten.bytes = value.dump();
    rewritten.digest = sha256_digest(rewritten.bytes);
    renamed[manifest.digest] = {rewritten.digest, rewritten.bytes.size()};
    out.push_back(std::move(rewritten));
  }
  return out;
}

Result<std::unique_ptr<ImageSource>> compress_layers(std::unique_ptr<ImageSource> source,
                                                     const CompressionSettings& settings,
                                                     BlobInfoCache& cache,
                                                     std::vector<CompressedLayer>& report) {
  if (settings.compression == Compression::none) {
    return source;
  }
  std::vector<Job> jobs;
  for (const auto& blob : source->blobs()) {
    if (is_uncompressed_layer(blob.media_type)) {
      jobs.push_back(Job{blob, "", {}, nullptr, std::nullopt});
    }
  }
  if (jobs.empty()) {
    return source;
  }
  // Docker manifests have no zstd layer type: with zstd the image becomes OCI, as skopeo's
  // `copy --dest-compress-format zstd` makes it.
  bool to_oci = false;
  for (const auto& manifest : source->manifests()) {
    to_oci = to_oci || (settings.compression == Compression::zstd &&
                        is_docker_media_type(manifest.media_type));
  }
  auto version = compressor_version(settings.compression);
  std::vector<Job*> pending;
  std::vector<bool> cached(jobs.size(), false);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto& job = jobs[i];
    job.key = blob_info_key(job.original.digest, to_string(settings.compression), version,
                            settings.level);
    if (auto known = cache.find(job.key)) {
      job.result = *known;
      cached[i] = true;
    } else {
      pending.push_back(&job);
    }
  }
  // The largest first, so that the longest job starts at once.
  std::sort(pending.begin(), pending.end(),
            [](const Job* a, const Job* b) { return a->original.size > b->original.size; });
  // One job per layer up to one per core; the cores left over help compress (gzip) each layer.
  unsigned cores =
      settings.threads != 0 ? settings.threads : std::max(1U, std::thread::hardware_concurrency());
  unsigned threads = std::min<unsigned>(cores, static_cast<unsigned>(pending.size()));
  unsigned per_layer = std::max(1U, cores / std::max(1U, threads));
  std::atomic<std::size_t> next{0};
  std::atomic<std::int64_t> budget{static_cast<std::int64_t>(settings.memory_budget)};
  {
    std::vector<std::jthread> workers;
    for (unsigned i = 0; i < threads; ++i) {
      workers.emplace_back([&] {
        for (std::size_t index = next++; index < pending.size(); index = next++) {
          compress_one(*source, settings, *pending[index], budget, per_layer);
          if (pending[index]->error) {
            next = pending.size(); // stop the others at their next layer
          }
        }
      });
    }
  }
  for (const auto* job : pending) {
    if (job->error) {
      return *job->error;
    }
  }

  auto wrapped = std::make_unique<CompressedSource>(std::move(source), settings);
  LayerRewrites rewrites;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto& job = jobs[i];
    auto type = compressed_layer_type(job.original.media_type, settings.compression);
    if (type.empty()) { // a Docker layer with zstd: the image becomes OCI
      type = compressed_layer_type("application/vnd.oci.image.layer.v1.tar", settings.compression);
    }
    BlobDescriptor compressed{job.result.digest, job.result.size, type};
    rewrites[job.original.digest] = compressed;
    wrapped->m_origin[compressed.digest] = CompressedSource::Origin{job.original, job.bytes};
    report.push_back(CompressedLayer{job.original.digest, compressed, cached[i]});
    if (!cached[i]) {
      cache.record(job.key, job.result);
    }
  }
  std::set<std::string> listed;
  for (const auto& blob : wrapped->m_inner->blobs()) {
    auto rewrite = rewrites.find(blob.digest);
    const auto& out = rewrite != rewrites.end() && is_uncompressed_layer(blob.media_type)
                          ? rewrite->second
                          : blob;
    if (listed.insert(out.digest).second) {
      wrapped->m_blobs.push_back(out);
    }
  }
  auto manifests = rewrite_manifests(wrapped->m_inner->manifests(), rewrites, to_oci);
  if (!manifests) {
    return manifests.error();
  }
  wrapped->m_manifests = std::move(*manifests);
  cache.save();
  return std::unique_ptr<ImageSource>(std::move(wrapped));
}

} // namespace regauth::image
