// dx7_tables.cpp - building the tables (once per engine, never in render()).
#include "dx7_tables.h"

#include <cmath>
#include <cstring>

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

}  // namespace

void Tables::init(double fs) {
  sample_rate = fs;
  init_mark1_tables(*this);
  for (int k = 0; k < 64; k++) pow2_64ths[k] = std::exp2(k / 64.0);
  cycles_per_hz = 16777216.0 / fs;
  // Envelope steps are the DX7's per-sample law applied at 44.1 kHz (DX7.md 4, "EG speed
  // vs sample rate"), so at fs every step is scaled by 44100 / fs.
  eg_speed = static_cast<uint32_t>(std::lround(44100.0 / fs * 16777216.0));
  // Pitch EG: a rate-table value v moves v / 21.3 octaves per second (DX7.md 3.10).
  pitch_eg_unit = static_cast<int32_t>(std::lround(16777216.0 * kBlock / (21.3 * fs)));
  // LFO: Hz -> 32-bit phase per block; the reference runs 4.4375e9 / 2^32 = 1.033x the
  // tabulated Hz (DX7.md 3.8), which this keeps.
  lfo_phase_per_hz = 4437500000.0 * kBlock / fs;
  // LFO delay: the delay-law unit is set so that delay 99 (law value 32) spends 2.66 s
  // before the fade starts (DX7.md 3.8; measured: bench/reference_laws.py lfo-delay).
  lfo_delay_unit = 2147483648.0 / (32.0 * 2.66 * fs / kBlock);
}

DX7_COLD_END

int32_t Tables::phase_increment(int32_t logfreq) const {
  // Above 2^21 Hz (reachable only with the pitch EG at +4 octaves on a high ratio) the
  // reference's oscillator stands still (measured, docs/engine.md); keep that.
  if (logfreq >= (21 << 24)) return 0;
  const double hz = pow2(static_cast<double>(logfreq) * (1.0 / 16777216.0));
  return static_cast<int32_t>(hz * cycles_per_hz + 0.5);
}

double Tables::pow2(double x) const {
  const double sixty_fourths = std::floor(x * 64.0);
  const int k = static_cast<int>(sixty_fourths);
  // The remainder r < 1/64 octave: 2^r = e^(r ln 2) by its series to the 4th power.
  const double f = (x * 64.0 - sixty_fourths) * (0.69314718055994531 / 64.0);
  const double series = 1.0 + f * (1.0 + f * (0.5 + f * (1.0 / 6.0 + f * (1.0 / 24.0))));
  // 2^(k div 64) built directly as a double's exponent field.
  const uint64_t bits = static_cast<uint64_t>(1023 + (k >> 6)) << 52;
  double octaves;
  std::memcpy(&octaves, &bits, sizeof(octaves));
  return pow2_64ths[k & 63] * series * octaves;
}

}  // namespace dx7
