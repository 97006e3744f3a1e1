// dx7_lfo.cpp - LFO speed, waves and delay (DX7.md 3.8).
#include "dx7_lfo.h"


namespace dx7 {

namespace {

// LFO speed 0..99 -> Hz: the reference's measured table (DX7.md 3.8, "Dexed's measured
// table"); the ROM law inc * 372.27 / 65536 agrees within 0.3 %.
constexpr float kSpeedHz[100] = {
    0.063f,  0.125f,  0.312f,  0.437f,  0.625f,  0.751f,  0.936f,  1.125f,  1.250f,  1.437f,
    1.561f,  1.752f,  1.875f,  2.062f,  2.247f,  2.374f,  2.560f,  2.687f,  2.874f,  2.999f,
    3.188f,  3.370f,  3.500f,  3.682f,  3.812f,  4.001f,  4.186f,  4.311f,  4.501f,  4.623f,
    4.815f,  4.930f,  5.122f,  5.315f,  5.435f,  5.617f,  5.750f,  5.947f,  6.063f,  6.248f,
    6.432f,  6.564f,  6.749f,  6.868f,  7.052f,  7.251f,  7.376f,  7.556f,  7.688f,  7.878f,
    7.994f,  8.182f,  8.372f,  8.505f,  8.685f,  8.811f,  8.986f,  9.122f,  9.301f,  9.500f,
    9.608f,  9.798f,  9.950f,  10.117f, 11.251f, 11.384f, 12.563f, 13.676f, 13.904f, 15.092f,
    16.367f, 16.639f, 17.870f, 19.194f, 19.425f, 20.833f, 21.035f, 22.502f, 24.004f, 24.260f,
    25.747f, 27.174f, 27.579f, 29.053f, 30.694f, 31.192f, 32.658f, 34.317f, 34.674f, 36.417f,
    38.197f, 38.551f, 40.388f, 40.750f, 42.626f, 44.326f, 44.883f, 46.773f, 48.591f, 49.261f};

constexpr uint32_t kHalf = 0x80000000u;  // half a cycle of the 32-bit phase
constexpr int32_t kLfoOne = 1 << 24;        // Q24 1.0
constexpr double kTwoPi = 6.283185307179586;

// One function per wave: phase (2^32 = a cycle) -> 0..1 in Q24. Triangle, square and
// sine have their maximum at half a cycle / are high in the first half (firmware shapes,
// DX7.md 3.8); the saws are read from the phase offset by half a cycle, the firmware's
// signed phase byte (measured: bench/reference_laws.py lfo-wave).
int32_t triangle(uint32_t p) { return static_cast<int32_t>((p < kHalf ? p : 0u - p) >> 7); }
int32_t saw_down(uint32_t p) { return static_cast<int32_t>(~(p + kHalf) >> 8); }
int32_t saw_up(uint32_t p) { return static_cast<int32_t>((p + kHalf) >> 8); }
int32_t square(uint32_t p) { return p < kHalf ? kLfoOne : 0; }
// Sine by quarter-wave symmetry and its Taylor series to x^13 (error < 1e-7 on a
// quarter wave), so the once-a-block LFO needs no libm call.
int32_t sine(uint32_t p) {
  const uint32_t quarter = p >> 30;                        // 0..3
  uint32_t within = p & 0x3fffffffu;                       // position in the quarter
  if (quarter & 1) within = 0x40000000u - within;          // falling quarters mirror
  const double x = static_cast<double>(within) * (kTwoPi / 4294967296.0);  // 0..pi/2
  const double x2 = x * x;
  // 1/13!, -1/11!, 1/9!, -1/7!, 1/5!, -1/3!, 1 (Horner, highest power first).
  static constexpr double kTerms[7] = {1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0,
                                       -1.0 / 5040.0,      1.0 / 120.0,        -1.0 / 6.0,
                                       1.0};
  double s = kTerms[0];
  for (int k = 1; k < 7; k++) s = s * x2 + kTerms[k];
  s *= x;
  if (quarter >= 2) s = -s;                                // second half is negative
  return static_cast<int32_t>((0.5 + 0.5 * s) * kLfoOne);
}
// Sample and hold: the signed 8-bit state as 1..256 / 256 (measured).
int32_t held(uint8_t x) { return ((x ^ 0x80) + 1) << 16; }

}  // namespace

DX7_COLD_BEGIN
void Lfo::set(const uint8_t params[6], const Tables &t) {
  const int speed = clampi(params[0], 0, 99);
  const int delay = clampi(params[1], 0, 99);
  phase_step_ = static_cast<uint32_t>(kSpeedHz[speed] * t.lfo_phase_per_hz);
  // Delay law (DX7.md 3.8): a = 99 - delay; the wait advances (16 + a mod 16) << (1 +
  // a div 16) units a block, the fade-in by that value rounded down to 128s (at least 128).
  const int a = 99 - delay;
  const uint32_t law = static_cast<uint32_t>(16 + (a & 15)) << (1 + (a >> 4));
  const uint32_t fade_law = (law & 0xff80u) > 0x80u ? (law & 0xff80u) : 0x80u;
  wait_step_ = delay == 0 ? 0 : static_cast<uint32_t>(law * t.lfo_delay_unit);
  fade_step_ = delay == 0 ? 0 : static_cast<uint32_t>(fade_law * t.lfo_delay_unit);
  sync_ = params[4] != 0;
  wave_ = static_cast<uint8_t>(clampi(params[5], 0, 5));
  if (delay == 0) fade_ = kLfoOne;
}

void Lfo::key_down() {
  // Key sync: just before half a cycle, so the first tick lands on it (DX7.md 3.8).
  if (sync_) phase_ = kHalf - 1;
  delay_count_ = 0;
  fade_ = wait_step_ == 0 ? kLfoOne : 0;
}
DX7_COLD_END

void Lfo::tick() {
  const uint32_t before = phase_;
  phase_ += phase_step_;
  if (phase_ < before) random_ = static_cast<uint8_t>(179 * random_ + 17);  // cycle wrapped
  switch (wave_) {
    case 0: value_ = triangle(phase_); break;
    case 1: value_ = saw_down(phase_); break;
    case 2: value_ = saw_up(phase_); break;
    case 3: value_ = square(phase_); break;
    case 4: value_ = sine(phase_); break;
    default: value_ = held(random_); break;
  }
  if (wait_step_ == 0) return;  // delay 0: full depth at once
  delay_count_ += delay_count_ < kHalf ? wait_step_ : fade_step_;
  if (delay_count_ >= 2ull * kHalf) delay_count_ = 2ull * kHalf;
  fade_ = delay_count_ <= kHalf ? 0 : static_cast<int32_t>((delay_count_ - kHalf) >> 7);
}

}  // namespace dx7
