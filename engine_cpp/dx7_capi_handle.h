// dx7_capi_handle.h - what a dx7_engine handle is, for other C++ sources of the C ABI
// (a native audio stream or a batch renderer that drive the same dx7::Engine).
#pragma once

#include "dx7_capi.h"
#include "dx7_engine.h"

struct dx7_engine {
  dx7::Engine impl;
  dx7_engine(double sample_rate, int polyphony, int queue_capacity)
      : impl(sample_rate, polyphony, queue_capacity) {}
};
