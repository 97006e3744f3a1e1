// dx7_controls.h - performance controllers and DX7 function parameters (DX7.md 2.3-2.5):
// the raw values the engine receives, and refresh(), which turns them into the pitch,
// amplitude and EG-bias depths and the pitch offset every voice reads once per block.
#pragma once

#include "dx7_common.h"

namespace dx7 {

struct ModRoute {
  int range = 0;    // 0..99
  int assign = 0;   // bit 0 pitch, bit 1 amplitude, bit 2 EG bias
};

struct Controls {
  // Raw inputs.
  int bend = 0;            // -8192..8191
  int bend_range = 2;      // semitones 0..12 (function parameter 65)
  int bend_step = 0;       // 0 = continuous, k = quantise to k semitones (66)
  int32_t master_tune = 0; // Q24 octaves
  int wheel = 0, breath = 0, foot = 0, aftertouch = 0;  // 0..127
  ModRoute wheel_route{99, 1}, foot_route{0, 0}, breath_route{0, 0}, at_route{0, 0};
  uint8_t op_mask = 0x3f;  // bit 0 = OP6 .. bit 5 = OP1 (parameter 155)
  bool mono = false;                   // function parameter 64
  int porta_mode = 0;                  // 67: poly retain/follow, mono fingered/full
  bool glissando = false;              // 68
  int porta_time = 0;                  // 0..127 (Dexed CC5 scale; 69 maps 0..99 onto it)
  bool porta_switch = false;           // CC65
  bool sustain = false;                // CC64

  // Derived by refresh().
  int amp_mod = 0;      // 0..127, LFO-independent amplitude modulation depth
  int pitch_mod = 0;    // 0..127, controller vibrato depth
  int eg_mod = 127;     // 0..127, EG bias (127 = none)
  int32_t pitch_base = 0;  // Q24 octaves: bend + master tune

  void refresh();
};

}  // namespace dx7
