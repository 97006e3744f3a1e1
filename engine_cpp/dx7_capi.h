/* dx7_capi.h - the engine's C ABI: every function Python calls (issue 9).
 *
 * Plain C, so that both loaders reach it the same way: cppyy (JIT) and a g++-built shared
 * library loaded with ctypes. Rules for every dx7_ function here and in other dx7_*_capi.h
 * headers: extern "C", opaque handles, const input pointers, int32/int64/float/double and
 * pointers only, units in the comment, no exception crosses the boundary. Each function is
 * also listed (name, ctypes signature, GIL flag) in engine_cpp/_abi.py.
 */
#ifndef DX7_CAPI_H
#define DX7_CAPI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A polyphonic DX7 engine (dx7::Engine). Opaque; create with dx7_engine_new. */
typedef struct dx7_engine dx7_engine;

/* Bumped when a signature here changes meaning. */
int32_t dx7_abi_version(void);

/* sample_rate_hz 8000..192000, polyphony 1..32, queue_capacity events 2..2^20 (rounded up
 * to a power of two). NULL if an argument is out of range or memory ran out. */
dx7_engine *dx7_engine_new(double sample_rate_hz, int32_t polyphony, int32_t queue_capacity);
/* Frees the engine (NULL is ignored). No call may be running on it. */
void dx7_engine_free(dx7_engine *engine);

/* Producer side (one thread). frame: absolute engine frame, -1 or a past frame = start of
 * the next block. type: dx7::EventType (dx7_events.h); a, b as documented there.
 * 1 = queued, 0 = queue full (counted in dx7_engine_dropped_events). */
int32_t dx7_engine_post(dx7_engine *engine, int64_t frame, int32_t type, int32_t a, int32_t b);
/* data156: 155 VCED bytes + the operator on/off mask (bit 5 = OP1 .. bit 0 = OP6). */
int32_t dx7_engine_post_patch(dx7_engine *engine, int64_t frame, const uint8_t *data156);
/* Offline only, producer thread: apply every queued event now. */
void dx7_engine_flush_events(dx7_engine *engine);

/* Consumer side (audio thread): fill out[0..frames) with mono samples in [-1, 1].
 * Real time: allocates nothing, takes no lock, never blocks. */
void dx7_engine_render(dx7_engine *engine, float *out, int32_t frames);

/* Offline reference render of one note with the edit buffer, outside the voice pool:
 * total frames into out, key up at keyup_frame, note 0..127, velocity 0..127, samples
 * multiplied by scale (2^-25: a full carrier ~1.0). ops: NULL or 6 * total floats, rows
 * OP1..OP6. Long-running: called with the GIL released. */
void dx7_engine_render_note(dx7_engine *engine, float *out, int32_t total, int32_t keyup_frame,
                            int32_t note, int32_t velocity, float scale, float *ops);

/* State, readable from any thread. */
int64_t dx7_engine_frame_position(const dx7_engine *engine);  /* frames rendered */
int32_t dx7_engine_sounding_voices(const dx7_engine *engine);
int64_t dx7_engine_dropped_events(const dx7_engine *engine);  /* refused: queue full */
float dx7_engine_peak(const dx7_engine *engine);  /* largest |sample| since reset */
void dx7_engine_reset_peak(dx7_engine *engine);
int32_t dx7_engine_polyphony(const dx7_engine *engine);
double dx7_engine_sample_rate(const dx7_engine *engine);  /* Hz */

/* Routing byte of operator op (0 = OP6 .. 5 = OP1) in algorithm 0..31 (dx7_algorithms.h);
 * -1 if out of range. */
int32_t dx7_algorithm_route(int32_t algorithm, int32_t op);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* DX7_CAPI_H */
