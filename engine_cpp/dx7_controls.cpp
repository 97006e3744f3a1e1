// dx7_controls.cpp - controller combination.
#include "dx7_controls.h"

namespace dx7 {

DX7_COLD_BEGIN
namespace {

void apply(int value, const ModRoute &r, int &amp, int &pitch, int &eg) {
  const int total = static_cast<int>(value * (0.01 * r.range));
  if (r.assign & 1) pitch = total > pitch ? total : pitch;
  if (r.assign & 2) amp = total > amp ? total : amp;
  if (r.assign & 4) eg = total > eg ? total : eg;
}

int32_t bend_q24(int bend, int range, int step) {
  if (bend == 0) return 0;
  if (step <= 0) {
    // Q24 octaves: (bend / 8192) * range / 12.
    return static_cast<int32_t>(static_cast<float>(bend * 2048) * static_cast<float>(range) / 12.0f);
  }
  // DX7: any step > 0 sets the range to 12 and quantises to multiples of step semitones.
  const int mag = bend < 0 ? -bend : bend;
  const int semis = (mag * 12 / 8192) / step * step;
  const int32_t q = static_cast<int32_t>(static_cast<int64_t>(semis) * (1 << 24) / 12);
  return bend < 0 ? -q : q;
}

}  // namespace

void Controls::refresh() {
  amp_mod = 0;
  pitch_mod = 0;
  eg_mod = 0;
  apply(wheel, wheel_route, amp_mod, pitch_mod, eg_mod);
  apply(breath, breath_route, amp_mod, pitch_mod, eg_mod);
  apply(foot, foot_route, amp_mod, pitch_mod, eg_mod);
  apply(aftertouch, at_route, amp_mod, pitch_mod, eg_mod);
  const int any_eg = (wheel_route.assign | foot_route.assign | breath_route.assign |
                      at_route.assign) & 4;
  if (!any_eg) eg_mod = 127;
  pitch_base = bend_q24(bend, clampi(bend_range, 0, 12), clampi(bend_step, 0, 12)) + master_tune;
}

DX7_COLD_END

}  // namespace dx7
