// dx7_tables.cpp - table construction (run once per engine, never in render()).
#include "dx7_tables.h"

#include <cmath>

namespace dx7 {

DX7_COLD_BEGIN
namespace {

constexpr double kPi = 3.14159265358979323846;

void init_mark1_tables(Tables &t) {
  for (int i = 0; i < 1024; i++) {
    // Stored through float, as the Mark I tables are.
    float s = static_cast<float>(std::sin(((0.5 + i) / 1024.0) * kPi / 2.0));
    t.sin_log[i] = static_cast<int32_t>(std::lround(-1024.0 * std::log2(static_cast<double>(s))));
    float e = static_cast<float>((std::pow(2.0, i / 1024.0) - 1.0) * 4096.0);
    t.sin_exp[i] = static_cast<uint16_t>(std::lround(static_cast<double>(e)));
  }
  for (int i = 0; i < 1024; i++) t.exp_rev[i] = 4096 + t.sin_exp[i ^ 0x3ff];
}

void init_lfo_sine(Tables &t) {
  // Integer rotation recurrence (msfa), values Q24, stored as (delta, value) pairs.
  const int n = 1024;
  const double dphase = 2.0 * kPi / n;
  const int64_t c = static_cast<int64_t>(std::floor(std::cos(dphase) * (1 << 30) + 0.5));
  const int64_t s = static_cast<int64_t>(std::floor(std::sin(dphase) * (1 << 30) + 0.5));
  const int64_t round = 1 << 29;
  int64_t u = 1 << 30;
  int64_t v = 0;
  for (int i = 0; i < n / 2; i++) {
    t.lfo_sin[(i << 1) + 1] = static_cast<int32_t>((v + 32) >> 6);
    t.lfo_sin[((i + n / 2) << 1) + 1] = -static_cast<int32_t>((v + 32) >> 6);
    const int64_t nv = (u * s + v * c + round) >> 30;
    u = (u * c - v * s + round) >> 30;
    v = nv;
  }
  for (int i = 0; i < n - 1; i++) {
    t.lfo_sin[i << 1] = t.lfo_sin[(i << 1) + 3] - t.lfo_sin[(i << 1) + 1];
  }
  t.lfo_sin[(n << 1) - 2] = -t.lfo_sin[(n << 1) - 1];
}

}  // namespace

void Tables::init(double sr) {
  sample_rate = sr;
  init_mark1_tables(*this);
  init_lfo_sine(*this);
  double y = static_cast<double>(1LL << 44) / sr;
  const double inc = std::pow(2.0, 1.0 / 1024.0);
  for (int i = 0; i < 1025; i++) {
    freq_lut[i] = static_cast<int32_t>(std::floor(y + 0.5));
    y *= inc;
  }
  env_sr_mult = static_cast<uint32_t>((44100.0 / sr) * (1 << 24));
  pitchenv_unit = static_cast<int32_t>(kBlock * (1 << 24) / (21.3 * sr) + 0.5);
  lfo_unit = static_cast<uint32_t>(kBlock * 25190424 / sr + 0.5);
  lfo_ratio = static_cast<uint32_t>(4437500000.0 * kBlock / sr);
}

DX7_COLD_END

int32_t Tables::freq(int32_t logfreq) const {
  const int shift_bits = 14;
  const int ix = (logfreq & 0xffffff) >> shift_bits;
  const int32_t y0 = freq_lut[ix];
  const int32_t y1 = freq_lut[ix + 1];
  const int lowbits = logfreq & ((1 << shift_bits) - 1);
  const int32_t y = y0 + static_cast<int32_t>((static_cast<int64_t>(y1 - y0) * lowbits) >> shift_bits);
  const int shift = 20 - (logfreq >> 24);
  if (shift < 0) return 0;  // >= 2^21 Hz: far beyond Nyquist; the reference silences it
  if (shift > 31) return 0;
  return y >> shift;
}

int32_t Tables::lfo_sine(int32_t phase) const {
  const int shift = 14;
  const int lowbits = phase & ((1 << shift) - 1);
  const int ix = (phase >> (shift - 1)) & ((1024 - 1) << 1);
  const int32_t dy = lfo_sin[ix];
  const int32_t y0 = lfo_sin[ix + 1];
  return y0 + static_cast<int32_t>((static_cast<int64_t>(dy) * lowbits) >> shift);
}

}  // namespace dx7
