// dx7_unity.cpp - every C++ source as one translation unit: cppyy's JIT includes it, the
// compiled loader builds it with g++ into a shared library (engine_cpp/_loader.py).
// A new source: one #include line here (its extern "C" functions go in _abi.py's table).
#include "dx7_controls.cpp"
#include "dx7_engine.cpp"
#include "dx7_env.cpp"
#include "dx7_kernel.cpp"
#include "dx7_lfo.cpp"
#include "dx7_pitchenv.cpp"
#include "dx7_route.cpp"
#include "dx7_setup.cpp"
#include "dx7_tables.cpp"
#include "dx7_voice.cpp"
// The C ABI (dx7_capi.h) and the sources that add to it.
#include "dx7_capi.cpp"
#include "dx7_batch.cpp"
#include "dx7_graph.cpp"
#include "dx7_audio.cpp"
#include "dx7_jackmidi.cpp"
