// dx7_batch.cpp - dx7_batch_*: N offline notes on a pool of engines (see dx7_batch.h).
#include "dx7_batch.h"

#include <atomic>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "dx7_engine.h"

struct dx7_batch {
  double sample_rate;
  std::vector<std::unique_ptr<dx7::Engine>> engines;  // one per worker
};

namespace dx7 {
namespace {

constexpr int kBatchPatchBytes = 156;
constexpr int kBatchMaxThreads = 256;

struct BatchJob {
  const uint8_t *patches;
  const int32_t *notes;
  const int32_t *velocities;
  int32_t n, total, keyup;
  float scale;
  bool normal_fb;
  float *out;
  float *ops;
  std::atomic<int32_t> next{0};
};

// Worker: take items until none is left; each one is a fresh note on this engine.
void batch_worker(Engine &engine, BatchJob &job) {
  engine.set_normalize_feedback(job.normal_fb);
  for (;;) {
    const int32_t i = job.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job.n) return;
    const int64_t row = static_cast<int64_t>(i) * job.total;
    engine.post_patch(-1, job.patches + static_cast<int64_t>(i) * kBatchPatchBytes);
    engine.render_note(job.out + row, job.total, job.keyup, job.notes[i], job.velocities[i],
                       job.scale, job.ops ? job.ops + row * kOps : nullptr);
  }
}

bool batch_args_ok(const uint8_t *patches, int32_t n, const int32_t *notes,
                   const int32_t *velocities, int32_t total, int32_t keyup, float *out) {
  if (n < 0 || total < 0 || keyup < 0 || keyup > total) return false;
  if (n == 0) return true;
  if (!patches || !notes || !velocities || !out) return false;
  for (int32_t i = 0; i < n; i++) {
    if (notes[i] < 0 || notes[i] > 127 || velocities[i] < 0 || velocities[i] > 127) return false;
  }
  return true;
}

}  // namespace
}  // namespace dx7

extern "C" {

dx7_batch *dx7_batch_new(double sample_rate_hz, int32_t threads) {
  if (!(sample_rate_hz >= 8000.0 && sample_rate_hz <= 192000.0)) return nullptr;
  if (threads < 0 || threads > dx7::kBatchMaxThreads) return nullptr;
  if (threads == 0) {
    const unsigned hw = std::thread::hardware_concurrency();
    threads = hw == 0 ? 1 : static_cast<int32_t>(hw);
  }
  try {
    auto *batch = new dx7_batch;
    batch->sample_rate = sample_rate_hz;
    for (int32_t k = 0; k < threads; k++) {
      // Polyphony 1 and a small queue: render_note uses the engine's reference voice.
      batch->engines.emplace_back(new dx7::Engine(sample_rate_hz, 1, 16));
    }
    return batch;
  } catch (...) {
    return nullptr;
  }
}

void dx7_batch_free(dx7_batch *batch) { delete batch; }

int32_t dx7_batch_threads(const dx7_batch *batch) {
  return batch ? static_cast<int32_t>(batch->engines.size()) : 0;
}

int32_t dx7_batch_render(dx7_batch *batch, const uint8_t *patches, int32_t n,
                         const int32_t *notes, const int32_t *velocities, int32_t total,
                         int32_t keyup_frame, float scale, int32_t flags, float *out, float *ops,
                         int32_t max_threads) {
  if (!batch || max_threads < 0) return -1;
  if (!dx7::batch_args_ok(patches, n, notes, velocities, total, keyup_frame, out)) return -1;
  if (n == 0) return 0;
  dx7::BatchJob job;
  job.patches = patches;
  job.notes = notes;
  job.velocities = velocities;
  job.n = n;
  job.total = total;
  job.keyup = keyup_frame;
  job.scale = scale;
  job.normal_fb = (flags & DX7_BATCH_NORMAL_FEEDBACK) != 0;
  job.out = out;
  job.ops = ops;
  int32_t workers = static_cast<int32_t>(batch->engines.size());
  if (max_threads > 0 && max_threads < workers) workers = max_threads;
  if (n < workers) workers = n;
  std::vector<std::thread> pool;
  try {
    pool.reserve(static_cast<size_t>(workers - 1));
    for (int32_t k = 1; k < workers; k++) {
      pool.emplace_back(dx7::batch_worker, std::ref(*batch->engines[k]), std::ref(job));
    }
  } catch (...) {
    // A thread could not start: the ones that did, and this one, finish the job.
  }
  dx7::batch_worker(*batch->engines[0], job);
  for (auto &t : pool) t.join();
  return 0;
}

}  // extern "C"
