// Not allowed: image/ reads files and depends on oci/ and util/ only, never on registry/.
// Compiled with regauth_image's include path, this must fail to find the registry header.
#include "regauth/image/image_source.hpp"
#include "regauth/registry/reference.hpp"

int layering_violation() { return 0; }
