// The lab programs' one way to write to etcd: a put through etcd's JSON gateway (/v3/kv/put), which takes keys and
// values in base64. A gateway keeps these small programs free of gRPC; drctl itself uses the native client.
#pragma once

#include <httplib.h>
#include <openssl/evp.h>

#include <string>

#include <fmt/format.h>

namespace drlab {

inline std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The gateway's answer, or nullptr-like httplib::Result on a transport error.
inline httplib::Result put(httplib::Client& client, const std::string& key, const std::string& value) {
  return client.Post("/v3/kv/put", fmt::format(R"({{"key":"{}","value":"{}"}})", base64(key), base64(value)),
                     "application/json");
}

}  // namespace drlab
