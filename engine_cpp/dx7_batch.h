/* dx7_batch.h - offline rendering of many notes at once, on every core (issue 11).
 *
 * A dx7_batch owns one private dx7::Engine per worker thread. One call renders N
 * (voice, note, velocity) items, each exactly like dx7_engine_render_note: a fresh
 * voice and LFO, key up at keyup_frame, no clipping, samples * scale. Items are handed
 * to the workers one at a time (an atomic counter), so uneven voices balance out.
 * Long-running: Python calls it with the GIL released.
 */
#ifndef DX7_BATCH_H
#define DX7_BATCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dx7_batch dx7_batch;

/* Flags of dx7_batch_render. */
#define DX7_BATCH_NORMAL_FEEDBACK 1 /* algorithms 4, 6, 32 at the others' feedback scale */

/* sample_rate_hz 8000..192000; threads 1..256 workers (0 = one per hardware thread).
 * NULL if an argument is out of range or memory ran out. */
dx7_batch *dx7_batch_new(double sample_rate_hz, int32_t threads);
/* NULL is ignored. No render may be running on it. */
void dx7_batch_free(dx7_batch *batch);
/* Worker threads (engines) of the batch. */
int32_t dx7_batch_threads(const dx7_batch *batch);

/* Render n >= 0 items into out (n * total floats, row i = item i).
 * patches: n * 156 bytes (155 VCED bytes + operator on/off mask; out-of-range bytes are
 * clamped like any patch); notes[i] 0..127 (MIDI key, before the voice's transpose);
 * velocities[i] 0..127; total frames per item >= 0; keyup_frame 0..total (the key goes
 * up at that frame; dx7_engine_render_note's rounding is the caller's); scale multiplies
 * every sample (2^-25: a full carrier ~1.0); flags DX7_BATCH_*.
 * ops: NULL, or n * 6 * total floats: item i's rows OP1..OP6 at ops + i * 6 * total.
 * max_threads: 0 = every worker, else at most that many run.
 * Returns 0, or -1 (nothing rendered) if an argument is out of range. */
int32_t dx7_batch_render(dx7_batch *batch, const uint8_t *patches, int32_t n,
                         const int32_t *notes, const int32_t *velocities, int32_t total,
                         int32_t keyup_frame, float scale, int32_t flags, float *out, float *ops,
                         int32_t max_threads);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* DX7_BATCH_H */
