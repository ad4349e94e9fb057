// Compressing layers that a source holds uncompressed (a `docker save` tarball, an OCI layout
// with `...layer.v1.tar` layers), as `docker push` and skopeo do: the algorithms, their media
// types, and a streaming compressor (libdeflate for gzip, with zlib for its CRC-32 and to join
// the chunks; libzstd for zstd; all loaded on first use).
#pragma once

#include "regauth/image/image_source.hpp"
#include "regauth/result.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace regauth::image {

enum class Compression { none, gzip, zstd };

// "gzip", "zstd" or "none". Fails (usage) for anything else, naming the choices.
Result<Compression> parse_compression(std::string_view text);
std::string_view to_string(Compression compression);

// The level regauth compresses at: gzip 2 (libdeflate, levels 0 to 12; smaller than skopeo's
// default gzip and than zlib's level 3, at half zlib 3's CPU, docs/benchmarks.md), zstd 3
// (zstd's default).
int default_level(Compression compression);

// True for the media types of uncompressed layers: OCI `application/vnd.oci.image.layer.v1.tar`
// and Docker `application/vnd.docker.image.rootfs.diff.tar`.
bool is_uncompressed_layer(std::string_view media_type);
// True for a Docker (schema 2) media type: manifest, manifest list, config or layer.
bool is_docker_media_type(std::string_view media_type);
// The media type of `uncompressed_type` compressed with `compression`, in the same flavour:
// OCI `...tar+gzip` / `...tar+zstd`, Docker `...diff.tar.gzip`. "" when that flavour has none
// (Docker has no zstd layer type).
std::string compressed_layer_type(std::string_view uncompressed_type, Compression compression);

// Compresses a stream: feed bytes with write(), then finish() once; each appends the
// compressed bytes produced so far to `output`. The same input, algorithm, level and library
// version always give the same bytes. Gzip output is one member with no file name and no
// time stamp (as Go's compress/gzip writes it) and one deflate stream, deflated in chunks of
// 1 MiB (each on its own, without the previous chunk as dictionary) joined as zlib's gzjoin
// does; each chunk is checked to inflate back to its input.
class Compressor {
public:
  virtual ~Compressor() = default;
  virtual Result<void> write(std::string_view input, std::string& output) = 0;
  virtual Result<void> finish(std::string& output) = 0;
};

// A compressor for `compression` (not none) at `level`; loads its library. Gzip compresses on
// up to `threads` threads (the bytes do not depend on it); zstd on one. Fails (io) when the
// library cannot be loaded (gzip: "gzip: cannot load libdeflate.so.0: ..."; zlib and libzstd,
// which Debian always has, exit as any missing library does) or cannot start one (out of
// memory, a level it does not know; for gzip on the first write).
Result<std::unique_ptr<Compressor>> make_compressor(Compression compression, int level,
                                                    unsigned threads = 1);

// "libdeflate 1.14 (build-id 8dd4...)" or "zstd 1.5.4": the library that compresses with
// `compression` (libdeflate has no version function: its header's version and the loaded
// file's build ID, so that a changed library is a new blob-info cache key); loads it.
// "libdeflate unavailable" when it cannot be loaded.
std::string compressor_version(Compression compression);

// The compression libraries and their versions, for `regauth --version`: {"zlib", "1.2.13"},
// {"libdeflate", "1.14 (build-id ...)"}, {"libzstd", "1.5.4"}; loads them. A libdeflate that
// cannot be loaded shows "unavailable: " and why.
std::vector<std::pair<std::string, std::string>> compression_library_versions();

// A reader that hands over the bytes of `inner` compressed.
std::unique_ptr<BlobReader> make_compressing_reader(std::unique_ptr<BlobReader> inner,
                                                    std::unique_ptr<Compressor> compressor);

} // namespace regauth::image
