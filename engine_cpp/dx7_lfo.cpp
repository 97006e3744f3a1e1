// dx7_lfo.cpp - LFO speed table (Hz, Dexed's measurement, DX7.md 3.8) and waveforms.
#include "dx7_lfo.h"

namespace dx7 {

DX7_COLD_BEGIN
namespace {

const double kLfoHz[100] = {
    0.062541,  0.125031,  0.312393,  0.437120,  0.624610,  0.750694,  0.936330,  1.125302,
    1.249609,  1.436782,  1.560915,  1.752081,  1.875117,  2.062494,  2.247191,  2.374451,
    2.560492,  2.686728,  2.873976,  2.998950,  3.188013,  3.369840,  3.500175,  3.682224,
    3.812065,  4.000800,  4.186202,  4.310716,  4.501260,  4.623209,  4.814636,  4.930480,
    5.121901,  5.315191,  5.434783,  5.617346,  5.750431,  5.946717,  6.062811,  6.248438,
    6.431695,  6.564264,  6.749460,  6.868132,  7.052186,  7.250580,  7.375719,  7.556294,
    7.687577,  7.877738,  7.993605,  8.181967,  8.372405,  8.504848,  8.685079,  8.810573,
    8.986341,  9.122423,  9.300595,  9.500285,  9.607994,  9.798158,  9.950249,  10.117361,
    11.251125, 11.384335, 12.562814, 13.676149, 13.904338, 15.092062, 16.366612, 16.638935,
    17.869907, 19.193858, 19.425019, 20.833333, 21.034918, 22.502250, 24.003841, 24.260068,
    25.746653, 27.173913, 27.578599, 29.052876, 30.693677, 31.191516, 32.658393, 34.317090,
    34.674064, 36.416606, 38.197097, 38.550501, 40.387722, 40.749796, 42.625746, 44.326241,
    44.883303, 46.772685, 48.590865, 49.261084};

}  // namespace

void Lfo::set(const uint8_t params[6], const Tables &t) {
  const int speed = clampi(params[0], 0, 99);
  delta_ = static_cast<uint32_t>(kLfoHz[speed] * t.lfo_ratio);
  const int a = 99 - clampi(params[1], 0, 99);
  if (a == 99) {
    delay_inc_ = ~0u;
    delay_inc2_ = ~0u;
  } else {
    uint32_t d = static_cast<uint32_t>((16 + (a & 15)) << (1 + (a >> 4)));
    delay_inc_ = t.lfo_unit * d;
    d &= 0xff80;
    if (d < 0x80) d = 0x80;
    delay_inc2_ = t.lfo_unit * d;
  }
  wave_ = clampi(params[5], 0, 5);
  sync_ = params[4] != 0;
}

DX7_COLD_END

void Lfo::tick(const Tables &t) {
  phase_ += delta_;
  int32_t x;
  switch (wave_) {
    case 0:  // triangle
      x = static_cast<int32_t>(phase_ >> 7);
      x ^= -static_cast<int32_t>(phase_ >> 31);
      value_ = x & ((1 << 24) - 1);
      break;
    case 1:  // saw down
      value_ = static_cast<int32_t>((~phase_ ^ (1u << 31)) >> 8);
      break;
    case 2:  // saw up
      value_ = static_cast<int32_t>((phase_ ^ (1u << 31)) >> 8);
      break;
    case 3:  // square
      value_ = static_cast<int32_t>(((~phase_) >> 7) & (1u << 24));
      break;
    case 4:  // sine
      value_ = (1 << 23) + (t.lfo_sine(static_cast<int32_t>(phase_ >> 8)) >> 1);
      break;
    default:  // sample and hold
      if (phase_ < delta_) rand_ = static_cast<uint8_t>((rand_ * 179 + 17) & 0xff);
      value_ = ((rand_ ^ 0x80) + 1) << 16;
      break;
  }
  const uint32_t step = delay_state_ < (1u << 31) ? delay_inc_ : delay_inc2_;
  const uint64_t d = static_cast<uint64_t>(delay_state_) + step;
  if (d > 0xffffffffull) {
    delay_value_ = 1 << 24;
    return;
  }
  delay_state_ = static_cast<uint32_t>(d);
  delay_value_ = d < (1u << 31) ? 0 : static_cast<int32_t>((d >> 7) & ((1 << 24) - 1));
}

DX7_COLD_BEGIN
void Lfo::key_down() {
  if (sync_) phase_ = (1u << 31) - 1;
  delay_state_ = 0;
}

DX7_COLD_END

}  // namespace dx7
