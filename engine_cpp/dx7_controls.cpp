// dx7_controls.cpp - from raw controller values to the depths the voices read.
#include "dx7_controls.h"

namespace dx7 {

namespace {

// A controller at `value` (0..127) through a route of `range` (0..99): the reference
// scales by range / 100, so full value and range give 125 (DX7.md 2.3, Dexed).
int scaled(int value, int range) { return value * range / 100; }

// Pitch bend -8192..8191 -> Q24 octaves. Step 0: continuous over +-range semitones.
// Step k: the DX7 quantises to whole multiples of k semitones and the range becomes
// 12 (DX7.md 2.4: step 5 at full deflection gives 10 semitones).
int32_t bend_octaves(int bend, int range, int step) {
  if (step <= 0) return static_cast<int32_t>(static_cast<int64_t>(bend) * range * 2048 / 12);
  const int full = bend >= 0 ? 8191 : 8192;  // either end of the wheel is 12 semitones
  const int semitones = bend * 12 / full / step * step;  // truncated towards the centre
  return static_cast<int32_t>((static_cast<int64_t>(semitones) << 24) / 12);
}

}  // namespace

void Controls::refresh() {
  struct Source { int value; const ModRoute *route; };
  const Source sources[4] = {
      {wheel, &wheel_route}, {foot, &foot_route}, {breath, &breath_route},
      {aftertouch, &at_route}};
  // The reference combines the sources assigned to one destination by their maximum
  // (DX7.md 2.3 and section 4, "modulation sum vs max"); an unassigned EG bias is the
  // neutral 127.
  int pitch = 0, amp = 0, bias = -1;
  for (const Source &s : sources) {
    const int depth = scaled(s.value, s.route->range);
    if (s.route->assign & 1) pitch = depth > pitch ? depth : pitch;
    if (s.route->assign & 2) amp = depth > amp ? depth : amp;
    if (s.route->assign & 4) bias = depth > bias ? depth : bias;
  }
  pitch_mod = pitch;
  amp_mod = amp;
  eg_mod = bias < 0 ? 127 : bias;
  pitch_base = bend_octaves(bend, bend_range, bend_step) + master_tune;
}

}  // namespace dx7
