// dx7_route.cpp - walking the routing table (dx7_algorithms.h, DX7.md 3.13) once.
#include "dx7_route.h"

namespace dx7 {

DX7_COLD_BEGIN
Route compile_route(int algorithm, int feedback, bool normal_feedback) {
  algorithm &= 31;
  const uint8_t *bytes = kAlgorithms[algorithm];
  Route r{};
  // Feedback scales the two-sample average by 2^(FB - 8): shift 8 - FB (DX7.md 3.12).
  // The reference's Mark I engine makes it 4x weaker (shift + 2) on algorithm 32 and on
  // the loops of algorithms 4 and 6 (DX7.md 3.12, 3.13).
  const bool weak = !normal_feedback && (algorithm == 31 || algorithm == 3 || algorithm == 5);
  const int shift = 8 - feedback + (weak ? 2 : 0);
  for (int op = 0; op < kOps; op++) {
    const uint8_t b = bytes[op];
    KernelStep s{StepKind::kPlain, static_cast<uint8_t>(op), 1,
                 static_cast<uint8_t>((b >> kInShift) & 3), static_cast<uint8_t>(b & kOutMask),
                 (b & kOutAdd) != 0, static_cast<int8_t>(shift)};
    if (feedback > 0 && (b & kFbIn)) {
      if (b & kFbOut) {
        s.kind = StepKind::kFeedback;
      } else {
        // A loop: it runs up to the operator that produces the feedback, and writes
        // where that operator writes.
        int last = op + 1;
        while (last < kOps && !(bytes[last] & kFbOut)) last++;
        s.kind = StepKind::kLoop;
        s.count = static_cast<uint8_t>(last - op + 1);
        s.out = static_cast<uint8_t>(bytes[last] & kOutMask);
        s.add = (bytes[last] & kOutAdd) != 0;
        s.in = 0;
        op = last;
      }
    }
    r.step[r.count++] = s;
  }
  return r;
}
DX7_COLD_END

}  // namespace dx7
