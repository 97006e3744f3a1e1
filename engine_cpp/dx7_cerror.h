// dx7_cerror.h - how a C ABI call hands back why it failed: NUL-terminated text in the
// caller's buffer (uint8 array, `bytes` long; truncated to fit); and how a configured
// device name is matched against what the system lists.
#pragma once

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace dx7 {

inline void put_error(uint8_t *error, int32_t bytes, const char *text) {
  if (error != nullptr && bytes > 0) {
    std::snprintf(reinterpret_cast<char *>(error), static_cast<size_t>(bytes), "%s", text);
  }
}

// True if `needle` occurs in `haystack` ignoring ASCII case ("" occurs everywhere):
// audio.device "usb" matches "USB Audio CODEC" and "system:playback_1" matches "playback".
inline bool contains_nocase(const char *haystack, const char *needle) {
  const size_t n = std::strlen(needle);
  for (const char *h = haystack; *h; ++h) {
    size_t i = 0;
    while (i < n && h[i] &&
           std::tolower(static_cast<unsigned char>(h[i])) ==
               std::tolower(static_cast<unsigned char>(needle[i]))) {
      ++i;
    }
    if (i == n) return true;
  }
  return n == 0;
}

}  // namespace dx7
