/* dx7_graph.h - rendering a free FM operator graph (OperatorGraph, issue 11).
 *
 * n DX7 operators (each its 21 VCED operator bytes: envelope, scaling, level, frequency),
 * any modulation edges with amounts, any feedback edges with levels, any carriers. Each
 * operator runs exactly as in a DX7 voice (dx7_setup.h laws, dx7_env.h envelope, the
 * dx7_kernel.h sine); the graph replaces the algorithm. No LFO, pitch EG or transpose.
 * Stateless: every call starts a fresh note. Long-running: the GIL is released.
 */
#ifndef DX7_GRAPH_H
#define DX7_GRAPH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DX7_GRAPH_MAX_OPS 256

/* Render one note of an n-operator graph (1 <= n <= DX7_GRAPH_MAX_OPS).
 * ops: n * 21 bytes, operator k's VCED operator block (rates, levels, break point, depths,
 *   curves, rate scaling, AMS, velocity sensitivity, output level, mode, coarse, fine,
 *   detune); out-of-range bytes are clamped.
 * mod: n * n floats, mod[dst * n + src] = amount src's output is added to dst's phase with
 *   (1.0 = a DX7 algorithm's connection, 0 = none); must be acyclic, no diagonal.
 * feedback: n * n floats, feedback[dst * n + src] = level 0..7 (0 = none; fractions
 *   allowed): dst's phase gets (y_src[t-1] + y_src[t-2]) / 2 * 2^(level - 8), as DX7
 *   feedback (DX7.md 3.12); src == dst is self-feedback; any other pair closes a loop.
 * carriers: n bytes, 1 = the operator's output is summed into out.
 * sample_rate_hz 8000..192000; note 0..127; velocity 0..127; total frames >= 0; key up
 * at keyup_frame (0..total); scale multiplies every sample (2^-25: a carrier at full
 * level ~1.0). out: total floats; ops_out: NULL or n * total floats (row k = operator k).
 * Returns 0; -1 if an argument is out of range; -2 if mod has a cycle. */
int32_t dx7_graph_render(int32_t n, const uint8_t *ops, const float *mod, const float *feedback,
                         const uint8_t *carriers, double sample_rate_hz, int32_t note,
                         int32_t velocity, int32_t total, int32_t keyup_frame, float scale,
                         float *out, float *ops_out);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* DX7_GRAPH_H */
