// `regauth export REGISTRY...`: a .dockerconfigjson document, or a Kubernetes pull secret,
// holding the credentials regauth would use for those registries.
#include "regauth/cli/commands.hpp"
#include "regauth/config/config_store.hpp"
#include "regauth/credentials/auth_entry.hpp"
#include "regauth/util/base64.hpp"

#include <algorithm>
#include <ostream>
#include <unistd.h>

namespace regauth::cli {
namespace {

// A Kubernetes object name: a DNS subdomain (RFC 1123), at most 253 characters.
bool valid_object_name(const std::string& name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

} // namespace

int run_export(const ExportOptions& options, Context& context) {
  if (options.servers.empty()) {
    return report(context, make_error(ErrorKind::usage, "export needs at least one REGISTRY"));
  }
  for (const auto& [flag, value] : {std::pair{"--k8s-secret", &options.secret_name},
                                    std::pair{"--namespace", &options.k8s_namespace}}) {
    if (value->has_value() && !valid_object_name(**value)) {
      return report(context,
                    make_error(ErrorKind::usage, std::string(flag) + " '" + **value +
                                                     "' is not a valid Kubernetes name (lower-case "
                                                     "letters, digits, '-' and '.')"));
    }
  }
  if (options.k8s_namespace && !options.secret_name) {
    return report(context, make_error(ErrorKind::usage, "--namespace needs --k8s-secret"));
  }
  auto keychain = context.keychain();
  if (!keychain) {
    return report(context, keychain.error());
  }
  config::Json auths = config::Json::object();
  for (const auto& server : options.servers) {
    auto key = context.registry_key(server);
    if (!key) {
      return report(context, key.error());
    }
    auto found = find_credentials(*keychain, *key);
    if (!found) {
      return report(context, found.error());
    }
    auths[*key] = credentials::encode_auth_entry(config::Json::object(), found->credentials);
  }
  config::Json document = config::Json::object();
  document["auths"] = std::move(auths);
  std::string text = config::serialize_go_style(document);
  if (options.secret_name) {
    config::Json secret = config::Json::object();
    secret["apiVersion"] = "v1";
    secret["kind"] = "Secret";
    secret["metadata"] = config::Json::object();
    secret["metadata"]["name"] = *options.secret_name;
    if (options.k8s_namespace) {
      secret["metadata"]["namespace"] = *options.k8s_namespace;
    }
    secret["type"] = "kubernetes.io/dockerconfigjson";
    secret["data"] = config::Json::object();
    secret["data"][".dockerconfigjson"] = base64_encode(text);
    text = config::serialize_go_style(secret);
  }
  text += '\n';
  if (options.output) {
    if (auto saved = config::save_private_file(*options.output, text); !saved) {
      return report(context, saved.error());
    }
    return 0;
  }
  if (::isatty(STDOUT_FILENO) == 1) {
    context.warn("the output holds secrets (registry credentials); write it to a file with "
                 "--output FILE or pipe it");
  }
  context.out << text << std::flush;
  return 0;
}

} // namespace regauth::cli
