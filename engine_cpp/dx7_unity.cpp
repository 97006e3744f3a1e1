// dx7_unity.cpp - the whole engine as one translation unit, for cppyy's JIT (and an
// ahead-of-time build: g++ -std=c++17 -O2 -c dx7_unity.cpp).
#include "dx7_controls.cpp"
#include "dx7_engine.cpp"
#include "dx7_env.cpp"
#include "dx7_kernel.cpp"
#include "dx7_lfo.cpp"
#include "dx7_pitchenv.cpp"
#include "dx7_tables.cpp"
#include "dx7_voice.cpp"
#include "dx7_batch.cpp"
