// dx7_route.h - an algorithm compiled once per voice into the list of kernel steps that
// renders it: which operator runs, on which kernel, reading and writing which bus.
#pragma once

#include "dx7_algorithms.h"
#include "dx7_common.h"

namespace dx7 {

enum class StepKind : uint8_t {
  kPlain,     // sin(phase + input bus)
  kFeedback,  // self feedback through the two-sample average (DX7.md 3.12)
  kLoop,      // 2- or 3-operator loop: the last one feeds the first (algorithms 4, 6)
};

struct KernelStep {
  StepKind kind;
  uint8_t op;      // operator index (0 = OP6); for a loop, its first operator
  uint8_t count;   // operators in a loop (1 otherwise)
  uint8_t in;      // input bus 0..2 (0 = no input)
  uint8_t out;     // output bus 0..2 (0 = the voice output)
  bool add;        // add to the bus (else overwrite it)
  int8_t shift;    // feedback: input = (y[n-1] + y[n-2]) >> (shift + 1)
};

struct Route {
  KernelStep step[kOps];
  int count;
};

// algorithm 0..31, feedback 0..7 -> the steps, in evaluation order (OP6 first).
// normal_feedback: algorithms 4, 6 and 32 get the others' feedback scale (no shift + 2).
Route compile_route(int algorithm, int feedback, bool normal_feedback = false);

}  // namespace dx7
