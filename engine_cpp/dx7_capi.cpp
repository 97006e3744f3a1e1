// dx7_capi.cpp - the C ABI of dx7_capi.h over dx7::Engine. Nothing throws across it.
#include "dx7_capi.h"

#include <new>

#include "dx7_algorithms.h"
#include "dx7_capi_handle.h"

extern "C" {

int32_t dx7_abi_version(void) { return 1; }

dx7_engine *dx7_engine_new(double sample_rate_hz, int32_t polyphony, int32_t queue_capacity) {
  if (!(sample_rate_hz >= 8000.0 && sample_rate_hz <= 192000.0)) return nullptr;
  if (polyphony < 1 || polyphony > dx7::kMaxPolyphony) return nullptr;
  if (queue_capacity < 2 || queue_capacity > (1 << 20)) return nullptr;
  return new (std::nothrow) dx7_engine(sample_rate_hz, polyphony, queue_capacity);
}

void dx7_engine_free(dx7_engine *engine) { delete engine; }

int32_t dx7_engine_post(dx7_engine *engine, int64_t frame, int32_t type, int32_t a,
                        int32_t b) {
  return engine->impl.post(frame, type, a, b) ? 1 : 0;
}

int32_t dx7_engine_post_patch(dx7_engine *engine, int64_t frame, const uint8_t *data156) {
  return engine->impl.post_patch(frame, data156) ? 1 : 0;
}

void dx7_engine_flush_events(dx7_engine *engine) { engine->impl.flush_events(); }

void dx7_engine_render(dx7_engine *engine, float *out, int32_t frames) {
  if (frames > 0) engine->impl.render(out, frames);
}

void dx7_engine_render_note(dx7_engine *engine, float *out, int32_t total, int32_t keyup_frame,
                            int32_t note, int32_t velocity, float scale, float *ops) {
  if (total > 0) engine->impl.render_note(out, total, keyup_frame, note, velocity, scale, ops);
}

int64_t dx7_engine_frame_position(const dx7_engine *engine) {
  return engine->impl.frame_position();
}
int32_t dx7_engine_sounding_voices(const dx7_engine *engine) {
  return engine->impl.sounding_voices();
}
int64_t dx7_engine_dropped_events(const dx7_engine *engine) {
  return engine->impl.dropped_events();
}
float dx7_engine_peak(const dx7_engine *engine) { return engine->impl.peak(); }
void dx7_engine_reset_peak(dx7_engine *engine) { engine->impl.reset_peak(); }
int32_t dx7_engine_polyphony(const dx7_engine *engine) { return engine->impl.polyphony(); }
double dx7_engine_sample_rate(const dx7_engine *engine) { return engine->impl.sample_rate(); }

int32_t dx7_algorithm_route(int32_t algorithm, int32_t op) {
  if (algorithm < 0 || algorithm > 31 || op < 0 || op > 5) return -1;
  return dx7::kAlgorithms[algorithm][op];
}

}  // extern "C"
