// dx7_graph.cpp - dx7_graph_render: DX7 operators wired by a free graph (dx7_graph.h).
//
// Per 64-frame control block every operator's envelope advances once and its gain ramps
// across the block, exactly as in dx7::Voice. Graphs whose only feedback is self-feedback
// run operator by operator over the whole block (the vector kernel op_run); a feedback
// edge between two operators needs the other operators' previous samples, so such graphs
// run sample by sample, every operator in order.
#include "dx7_graph.h"

#include <cmath>
#include <cstring>
#include <new>
#include <vector>

#include "dx7_env.h"
#include "dx7_kernel.h"
#include "dx7_setup.h"
#include "dx7_tables.h"

namespace dx7 {
namespace {

constexpr int kOpBytes = 21;

struct GraphInput {       // one modulation or feedback edge into an operator
  int src;
  float amount;           // modulation: multiplier (1 = DX7); feedback: unused
  int shift;              // feedback at a whole level: (y1 + y2) >> shift; else -1
  double gain;            // feedback at a fractional level: (y1 + y2) * gain
};

struct GraphOp {
  EgParams eg;
  bool fixed;
  int32_t pitch;          // Q24 log2 offset from the key (ratio) or the fixed pitch
  Envelope env;
  OpRun run;
  uint32_t phase = 0;
  int32_t gain = kEnvMax;     // attenuation at the start of the block
  int32_t gain_end = kEnvMax;
  bool silent = false;
  std::vector<GraphInput> mod, fb;
  int32_t hist[2] = {0, 0};   // own output y[t-2], y[t-1] (for feedback it gives)
  bool gives_feedback = false;
};

int32_t to_attenuation(int32_t level) { return clampi(kEnvMax - (level >> 14), 0, kEnvMax); }

// The operators' note set-ups, six at a time through the voice's set-up (same laws).
void set_up(std::vector<GraphOp> &g, const uint8_t *ops, int note, int velocity) {
  const int n = static_cast<int>(g.size());
  for (int first = 0; first < n; first += kOps) {
    uint8_t patch[kVoiceBytes] = {};
    for (int k = 0; k < kOps && first + k < n; k++) {
      std::memcpy(patch + k * kOpBytes, ops + static_cast<int64_t>(first + k) * kOpBytes,
                  kOpBytes);
    }
    patch[126 + 4] = patch[126 + 5] = patch[126 + 6] = patch[126 + 7] = 50;  // pitch EG flat
    patch[144] = 24;
    sanitise_patch(patch);
    const VoiceSetup s = setup_voice(patch, note, velocity);
    for (int k = 0; k < kOps && first + k < n; k++) {
      GraphOp &o = g[first + k];
      o.eg = s.op[k].eg;
      o.fixed = s.op[k].fixed;
      o.pitch = s.op[k].pitch;
    }
  }
}

// Kahn's order of the modulation edges; false if they hold a cycle.
bool order_ops(const std::vector<GraphOp> &g, std::vector<int> &order) {
  const int n = static_cast<int>(g.size());
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> out(n);
  for (int d = 0; d < n; d++) {
    for (const GraphInput &in : g[d].mod) {
      pending[d]++;
      out[in.src].push_back(d);
    }
  }
  order.clear();
  for (int k = 0; k < n; k++) if (pending[k] == 0) order.push_back(k);
  for (size_t i = 0; i < order.size(); i++) {
    for (int d : out[order[i]]) if (--pending[d] == 0) order.push_back(d);
  }
  return static_cast<int>(order.size()) == n;
}

int32_t feedback_input(const GraphOp *g, const GraphOp &o) {
  uint32_t x = 0;
  for (const GraphInput &in : o.fb) {
    const int32_t sum = g[in.src].hist[0] + g[in.src].hist[1];
    const int32_t v = in.shift >= 0 ? sum >> in.shift
                                    : static_cast<int32_t>(std::floor(sum * in.gain));
    x += static_cast<uint32_t>(v);
  }
  return static_cast<int32_t>(x);
}

int32_t weighted(float amount, int32_t y) {
  return amount == 1.0f ? y : static_cast<int32_t>(std::lrint(static_cast<double>(amount) * y));
}

// Block mode: one operator over frames [0, m), its modulators already rendered into ys.
void run_op_block(const Tables &t, GraphOp *g, int k, int m, int32_t *const *ys,
                  int32_t *scratch) {
  GraphOp &o = g[k];
  int32_t *y = ys[k];
  if (o.silent) {
    std::memset(y, 0, sizeof(int32_t) * m);
    o.hist[0] = o.hist[1] = 0;
    return;
  }
  const int32_t *in = nullptr;
  if (!o.mod.empty()) {
    for (int i = 0; i < m; i++) {
      uint32_t x = 0;
      for (const GraphInput &e : o.mod) x += static_cast<uint32_t>(weighted(e.amount, ys[e.src][i]));
      scratch[i] = static_cast<int32_t>(x);
    }
    in = scratch;
  }
  if (o.fb.empty()) {
    op_run(t, o.run, in, y, false, 0, m);
    return;
  }
  for (int i = 0; i < m; i++) {  // self-feedback (and maybe modulation): sample by sample
    uint32_t ph = o.run.phase0 + static_cast<uint32_t>(i) * static_cast<uint32_t>(o.run.freq);
    ph += static_cast<uint32_t>(feedback_input(g, o)) + (in ? static_cast<uint32_t>(in[i]) : 0u);
    y[i] = mk1_sin(t, ph, o.run.g1 + (i + 1) * o.run.dg);
    o.hist[0] = o.hist[1];
    o.hist[1] = y[i];
  }
}

// Sample mode: every operator, sample by sample (a feedback edge between operators).
void run_samples(const Tables &t, GraphOp *g, const std::vector<int> &order, int m,
                 int32_t *const *ys) {
  for (int i = 0; i < m; i++) {
    for (int k : order) {
      GraphOp &o = g[k];
      if (o.silent) {
        ys[k][i] = 0;
        continue;
      }
      uint32_t x = static_cast<uint32_t>(feedback_input(g, o));
      for (const GraphInput &e : o.mod) x += static_cast<uint32_t>(weighted(e.amount, ys[e.src][i]));
      const uint32_t ph = o.run.phase0 +
                          static_cast<uint32_t>(i) * static_cast<uint32_t>(o.run.freq) + x;
      ys[k][i] = mk1_sin(t, ph, o.run.g1 + (i + 1) * o.run.dg);
    }
    for (int k : order) {
      GraphOp &o = g[k];
      if (!o.gives_feedback) continue;
      o.hist[0] = o.hist[1];
      o.hist[1] = o.silent ? 0 : ys[k][i];
    }
  }
}

void begin_block(const Tables &t, std::vector<GraphOp> &g, int32_t key) {
  for (GraphOp &o : g) {
    o.run.phase0 = o.phase;
    o.run.freq = t.phase_increment(o.fixed ? o.pitch : key + o.pitch);
    const int32_t target = to_attenuation(o.env.advance());
    o.run.g1 = o.gain;
    o.run.dg = (target - o.gain) / kBlock;  // towards zero: never overshoots (as the voice)
    o.gain_end = target;
    o.silent = o.gain >= kLevelThresh && target >= kLevelThresh;
  }
}

void end_block(std::vector<GraphOp> &g, int frames) {
  for (GraphOp &o : g) {
    o.phase = o.run.phase0 + static_cast<uint32_t>(frames) * static_cast<uint32_t>(o.run.freq);
    o.gain = frames == kBlock ? o.gain_end : o.run.g1 + frames * o.run.dg;
  }
}

bool build_edges(std::vector<GraphOp> &g, const float *mod, const float *fb) {
  const int n = static_cast<int>(g.size());
  for (int d = 0; d < n; d++) {
    for (int s = 0; s < n; s++) {
      const float a = mod[d * n + s];
      const float level = fb[d * n + s];
      if (!std::isfinite(a) || !std::isfinite(level) || level < 0.0f || level > 7.0f) {
        return false;
      }
      if (a != 0.0f) {
        if (s == d) return false;  // self-modulation is feedback
        g[d].mod.push_back(GraphInput{s, a, -1, 0.0});
      }
      if (level > 0.0f) {
        const bool whole = level == std::floor(level);
        g[d].fb.push_back(GraphInput{s, 1.0f, whole ? 9 - static_cast<int>(level) : -1,
                                     std::exp2(static_cast<double>(level) - 9.0)});
        g[s].gives_feedback = true;
      }
    }
  }
  return true;
}

}  // namespace
}  // namespace dx7

extern "C" int32_t dx7_graph_render(int32_t n, const uint8_t *ops, const float *mod,
                                    const float *feedback, const uint8_t *carriers,
                                    double sample_rate_hz, int32_t note, int32_t velocity,
                                    int32_t total, int32_t keyup_frame, float scale, float *out,
                                    float *ops_out) {
  using namespace dx7;
  if (n < 1 || n > DX7_GRAPH_MAX_OPS || !ops || !mod || !feedback || !carriers) return -1;
  if (!(sample_rate_hz >= 8000.0 && sample_rate_hz <= 192000.0)) return -1;
  if (note < 0 || note > 127 || velocity < 0 || velocity > 127) return -1;
  if (total < 0 || keyup_frame < 0 || keyup_frame > total || (total > 0 && !out)) return -1;
  try {
    Tables t;
    t.init(sample_rate_hz);
    std::vector<GraphOp> g(static_cast<size_t>(n));
    if (!build_edges(g, mod, feedback)) return -1;
    std::vector<int> order;
    if (!order_ops(g, order)) return -2;
    bool cross = false;
    for (int d = 0; d < n; d++) {
      for (const GraphInput &in : g[d].fb) cross = cross || in.src != d;
    }
    set_up(g, ops, note, velocity);
    for (GraphOp &o : g) o.env.start(o.eg, t.eg_speed);
    std::vector<int32_t> buffers(static_cast<size_t>(n) * kBlock);
    std::vector<int32_t *> ys(static_cast<size_t>(n));
    for (int k = 0; k < n; k++) ys[k] = buffers.data() + static_cast<int64_t>(k) * kBlock;
    int32_t scratch[kBlock];
    const int32_t key = key_pitch(note);
    bool released = false;
    for (int pos = 0; pos < total; pos += kBlock) {
      if (!released && pos >= keyup_frame) {
        for (GraphOp &o : g) o.env.release();
        released = true;
      }
      const int m = total - pos < kBlock ? total - pos : kBlock;
      begin_block(t, g, key);
      if (cross) {
        run_samples(t, g.data(), order, m, ys.data());
      } else {
        for (int k : order) run_op_block(t, g.data(), k, m, ys.data(), scratch);
      }
      for (int i = 0; i < m; i++) {
        int64_t sum = 0;
        for (int k = 0; k < n; k++) if (carriers[k]) sum += ys[k][i];
        out[pos + i] = static_cast<float>(sum) * scale;
      }
      if (ops_out) {
        for (int k = 0; k < n; k++) {
          float *row = ops_out + static_cast<int64_t>(k) * total + pos;
          for (int i = 0; i < m; i++) row[i] = static_cast<float>(ys[k][i]) * scale;
        }
      }
      if (m == kBlock) end_block(g, kBlock);
    }
  } catch (...) {
    return -1;  // out of memory
  }
  return 0;
}
