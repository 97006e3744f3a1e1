// dx7_cerror.h - how a C ABI call hands back why it failed: NUL-terminated text in the
// caller's buffer (uint8 array, `bytes` long; truncated to fit).
#pragma once

#include <cstdint>
#include <cstdio>

namespace dx7 {

inline void put_error(uint8_t *error, int32_t bytes, const char *text) {
  if (error != nullptr && bytes > 0) {
    std::snprintf(reinterpret_cast<char *>(error), static_cast<size_t>(bytes), "%s", text);
  }
}

}  // namespace dx7
