"""The cartridge generator, three ways side by side on the same held-out split, in one run.

    .venv/bin/python bench/generator.py [--model M] [--corpus C.npz] [--voices 1000] [--quick]

(a) uniform random parameters; (b) the site's method on our model: z ~ N(0, 1), each
parameter's most likely value (the argmax of every head, ordinal ones included; ours
takes their median), nothing listened to; (c) ours: dx7d generate (screened,
far apart, named), as 32-voice cartridges with seeds 0, 1, 2, ...

Prints: 1. raw pass rates (before screening) and the delivered cartridges' checks;
2. realism: Frechet distance of MFCC-mean statistics (one note per voice) to held-out
real voices, next to the floor (two halves of the real voices), split into its mean and
covariance terms, with what it is made of: held-out voices rebuilt from their latents
(0-99 parameters at the median, as generation decodes, or drawn from their heads) and
ours before the far-apart picking (screened only); 3. held-out
reconstruction per parameter against the most-common-value baseline; 4. the latent
knobs: smoothness of one-dimension sweeps and what each dimension changes; 5. speed
(a screened cartridge on one core; a knob move) and the model's training time.
The held-out split is the model's: files chosen by a hash of their path (corpus.py).
"""

from __future__ import annotations

import os

# one core: BLAS and FFT threads off before numpy loads
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from dx7d.generator._params import HEADS, VOICE_PARAMS, canonical, decode_outputs  # noqa: E402
from dx7d.generator.corpus import Corpus, build_corpus  # noqa: E402
from dx7d.generator.evaluate import baseline_accuracy, reconstruction_accuracy  # noqa: E402
from dx7d.generator.explain import describe, knob_steps, sweep  # noqa: E402
from dx7d.generator.generate import (  # noqa: E402
    DUPLICATE_DISTANCE,
    NEAR_COPY_PARAMETERS,
    Candidate,
    generate,
    screen,
)
from dx7d.generator.model import Model, default_model_path  # noqa: E402
from dx7d.generator.sound import Listener, Sound, sound_vector  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO.parent / "shared" / "banks" / "library"


def frechet(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (rows = voices)."""
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(c1)
    s1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(s1 @ c2 @ s1), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * cross)


def frechet_terms(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
                  ) -> tuple[float, float]:
    """(mean term, covariance term) of ``frechet(a, b)``: the squared distance of the means
    and the rest."""
    mean = float(((a.mean(axis=0) - b.mean(axis=0)) ** 2).sum())
    return mean, frechet(a, b) - mean


def drawn_voices(out: npt.NDArray[np.float32], rng: np.random.Generator
                 ) -> npt.NDArray[np.uint8]:
    """Decoder outputs -> voices with each 0-99 parameter drawn from its head (inverse CDF
    at a uniform number) instead of the median; categorical ones at their argmax."""
    from dx7d.generator._params import ORD_INDEX, ORD_MAX, ordinal_pmf

    v = decode_outputs(out)
    cdf = np.cumsum(ordinal_pmf(out), axis=2)
    u = rng.random(cdf.shape[:2]) * cdf[..., -1]
    v[:, ORD_INDEX] = np.minimum((cdf < u[..., None]).sum(axis=2), ORD_MAX).astype(np.uint8)
    return v


def mfcc_matrix(sounds: list[Sound]) -> npt.NDArray[np.float64]:
    return np.stack([s.mfcc for s in sounds])


def uniform_voices(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    highs = np.array([h.values for h in HEADS])
    return (rng.random((n, VOICE_PARAMS)) * highs).astype(np.uint8)


def pass_rate(model: Model, voices: npt.NDArray[np.uint8], z: npt.NDArray[np.float32],
              ear: Listener) -> tuple[float, list[Sound], dict[str, int]]:
    reasons: dict[str, int] = {}
    sounds, passed = [], 0
    for v, zz in zip(voices, z, strict=True):
        c = Candidate(canonical(v), zz)
        screen(c, model, ear)
        assert c.sound is not None
        sounds.append(c.sound)
        passed += c.passed
        for r in c.rejected:
            reasons[r] = reasons.get(r, 0) + 1
    return passed / len(voices), sounds, reasons


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="model .npz (default: the shipped one)")
    ap.add_argument("--corpus", help="corpus .npz (default: built from ../shared/banks/library)")
    ap.add_argument("--voices", type=int, default=1000, help="voices per generator (realism)")
    ap.add_argument("--quick", action="store_true", help="200 voices, fewer speed runs")
    args = ap.parse_args()
    logging.getLogger("dx7d.voices").setLevel(logging.ERROR)
    n = 200 if args.quick else args.voices
    model = Model.load(args.model)
    print(f"model: {args.model or default_model_path()}: latent {model.latent}, hidden "
          f"{model.meta['hidden']}, trained on {model.meta['train']['voices']} voices")
    if args.corpus:
        corpus = Corpus.load(args.corpus)
    else:
        corpus, _ = build_corpus([LIBRARY])
    held = corpus.held_out_mask()
    train_set, test = corpus.subset(~held), corpus.subset(held)
    print(f"corpus: {len(corpus)} voices; held out: {len(test)} voices of "
          f"{len(set(test.sources))} files")
    rng = np.random.default_rng(2024)
    ear = Listener()

    # -- realism reference: two disjoint halves of the held-out voices ------------------
    order = rng.permutation(len(test))
    half = min(n, len(test) // 2)
    real_a = [ear.listen(v) for v in test.voices[order[:half]]]
    real_b = [ear.listen(v) for v in test.voices[order[half:2 * half]]]
    ref = mfcc_matrix(real_a)
    floor = frechet(ref, mfcc_matrix(real_b))
    real_rate, _, _ = pass_rate(model, test.voices[order[:half]],
                                model.encode(test.voices[order[:half]]), ear)

    # -- (a) uniform random, (b) the site's method, (c) ours ----------------------------
    uni = uniform_voices(rng, n)
    rate_a, sounds_a, why_a = pass_rate(model, uni, model.encode(uni), ear)
    z = rng.standard_normal((n, model.latent)).astype(np.float32)
    site = decode_outputs(model.decode_raw(z), argmax=True)  # every head's argmax
    rate_b, sounds_b, why_b = pass_rate(model, site, z, ear)

    cartridges = []
    started = time.process_time()
    seed = 0
    while sum(len(c.voices) for c in cartridges) < n:
        cartridges.append(generate(model, seed=seed, listener=ear))
        seed += 1
    cpu_per_cart = (time.process_time() - started) / len(cartridges)
    ours = [c for cart in cartridges for c in cart.voices][:n]
    sounds_c = [c.sound for c in ours if c.sound is not None]
    rate_c = sum(c.passed for c in cartridges) / sum(c.candidates for c in cartridges)
    why_c: dict[str, int] = {}
    for cart in cartridges:
        for k, v in cart.reasons.items():
            why_c[k] = why_c.get(k, 0) + v

    print("\n1. pass rates (silent, clipping, noise-like, near-copy screens) and delivery")
    print(f"   {'generator':<34} {'raw pass rate':>13}   rejected")
    for label, rate, why in (("real held-out voices (for scale)", real_rate, {}),
                             ("(a) uniform random parameters", rate_a, why_a),
                             ("(b) site: z~N(0,1), argmax, unheard", rate_b, why_b),
                             ("(c) ours, before screening", rate_c, why_c)):
        text = ", ".join(f"{k} {v}" for k, v in sorted(why.items())) or "-"
        print(f"   {label:<34} {100 * rate:>12.1f}%   {text}")
    full = sum(len(c.voices) == 32 and all(v.passed for v in c.voices) for c in cartridges)
    dups = sum(32 - len({v.voice.tobytes() for v in c.voices}) for c in cartridges)
    alike = 0
    for c in cartridges:
        vecs = np.stack([sound_vector(v.sound) for v in c.voices if v.sound is not None])
        d = np.linalg.norm(vecs[:, None] - vecs[None], axis=2) + np.eye(len(vecs)) * 1e9
        alike += int((d < DUPLICATE_DISTANCE).sum() // 2)
    copies = sum(v.nearest_differs < NEAR_COPY_PARAMETERS for c in cartridges for v in c.voices)
    names = sum(len({v.name.upper() for v in c.voices}) == 32 for c in cartridges)
    print(f"   (c) delivered: {len(cartridges)} cartridges (seeds 0-{seed - 1}); "
          f"{full}/{len(cartridges)} with 32 of 32 passing every screen; duplicates "
          f"{dups}, pairs sounding alike {alike}; near-copies of a corpus voice {copies}; "
          f"{names}/{len(cartridges)} with 32 distinct names; "
          f"sizes {sorted({len(c.to_syx()) for c in cartridges})} bytes")

    print(f"\n2. realism: Frechet distance of MFCC means, {half} real held-out voices vs "
          f"{n} voices each")
    # what (c) is made of (a generator of its own, so the figures above keep their draws)
    parts = np.random.default_rng(2025)
    other_half = test.voices[order[half:2 * half]]
    rebuilt_out = model.decode_raw(model.encode(other_half))
    rebuilt_median = [ear.listen(canonical(v)) for v in decode_outputs(rebuilt_out)]
    rebuilt_drawn = [ear.listen(canonical(v)) for v in drawn_voices(rebuilt_out, parts)]
    screened: list[Sound] = []
    while len(screened) < n:
        zz = parts.standard_normal((n, model.latent)).astype(np.float32)
        for v, z1 in zip(model.decode(zz), zz, strict=True):
            cand = Candidate(canonical(v), z1)
            screen(cand, model, ear)
            if cand.passed and cand.sound is not None and len(screened) < n:
                screened.append(cand.sound)
    rows = {"floor: real half vs real half": mfcc_matrix(real_b),
            "(a) uniform random": mfcc_matrix(sounds_a),
            "(b) site's method": mfcc_matrix(sounds_b),
            "(c) ours": mfcc_matrix(sounds_c),
            "(c) before far-apart picking": mfcc_matrix(screened),
            "held-out rebuilt, 0-99 median": mfcc_matrix(rebuilt_median),
            "held-out rebuilt, 0-99 drawn": mfcc_matrix(rebuilt_drawn)}
    print(f"   {'':<32} {'distance':>9}   {'x floor':>8}   {'mean term':>9} {'cov term':>9}")
    for label, feats in rows.items():
        value = frechet(ref, feats)
        mean_term, cov_term = frechet_terms(ref, feats)
        print(f"   {label:<32} {value:>9.1f}   {value / floor:>6.2f} x   {mean_term:>9.1f} "
              f"{cov_term:>9.1f}")
    ratio = mfcc_matrix(sounds_c).var(axis=0) / ref.var(axis=0)
    print("   (c) variance / real variance, MFCC 0-19: " + " ".join(f"{r:.2f}" for r in ratio))
    print("   target: (c) <= 1.5 x floor")

    print(f"\n3. held-out reconstruction ({len(test)} voices): parameters right (categorical "
          "exact, 0-99 within 5)")
    acc = reconstruction_accuracy(model, test.voices)
    base = baseline_accuracy(train_set.voices, test.voices)
    from dx7d.generator._params import CAT_INDEX, ORD_INDEX

    for label, idx in (("all 145", slice(None)), ("categorical", CAT_INDEX),
                       ("0-99", ORD_INDEX)):
        print(f"   {label:<12} model {100 * acc[idx].mean():5.1f} %   most-common baseline "
              f"{100 * base[idx].mean():5.1f} %")
    better = int((acc > base + 1e-9).sum())
    print(f"   parameters where the model beats the baseline: {better} of 145")

    print("\n4. knobs: one-dimension sweeps (-3..+3 sigma, 16 steps) around 20 held-out voices;"
          " plain decode (dx7d explain)")
    centres = model.encode(test.voices[order[:20]])
    print(f"   {'dim':<4} {'step mean':>9} {'step cv':>8} {'max/mean':>8} {'ends apart':>10}")
    audible = 0
    for d in range(model.latent):
        steps_mean, cvs, peaks, ends = [], [], [], []
        for centre in centres:
            s = sweep(model, d, ear, steps=16, centre=centre)
            v = np.stack([sound_vector(x) for x in s.sounds])
            st = np.linalg.norm(np.diff(v, axis=0), axis=1)
            steps_mean.append(st.mean())
            cvs.append(st.std() / max(st.mean(), 1e-9))
            peaks.append(st.max() / max(st.mean(), 1e-9))
            ends.append(np.linalg.norm(v[-1] - v[0]))
        audible += statistics.median(ends) > DUPLICATE_DISTANCE
        print(f"   {d + 1:<4} {statistics.median(steps_mean):>9.3f} "
              f"{statistics.median(cvs):>8.2f} {statistics.median(peaks):>8.2f} "
              f"{statistics.median(ends):>10.2f}")
    print(f"   audible (median end-to-end distance > {DUPLICATE_DISTANCE}, the 'sounds alike' "
          f"distance): {audible} of {model.latent} dimensions")
    print("   the knob path (daemon/knobs.py: 0-99 parameters at their expected step, "
          "categorical ones held unless another value wins by KNOB_MARGIN), CC 0..127 in 16 "
          "moves, same 20 voices")
    print(f"   {'dim':<4} {'step mean':>9} {'step cv':>8} {'max/mean':>8} {'ends apart':>10}")
    audible = 0
    for d in range(model.latent):
        steps_mean, cvs, peaks, ends = [], [], [], []
        for voice in test.voices[order[:20]]:
            st, end = knob_steps(model, d, voice, ear)
            steps_mean.append(st.mean())
            cvs.append(st.std() / max(st.mean(), 1e-9))
            peaks.append(st.max() / max(st.mean(), 1e-9))
            ends.append(end)
        audible += statistics.median(ends) > DUPLICATE_DISTANCE
        print(f"   {d + 1:<4} {statistics.median(steps_mean):>9.3f} "
              f"{statistics.median(cvs):>8.2f} {statistics.median(peaks):>8.2f} "
              f"{statistics.median(ends):>10.2f}")
    print(f"   knob path audible: {audible} of {model.latent} dimensions")
    for line in describe([sweep(model, d, ear) for d in range(model.latent)]):
        print("   " + line)

    print("\n5. speed (one core)")
    runs = 3 if args.quick else 5
    cpu = []
    for r in range(runs):
        t = time.process_time()
        generate(model, seed=1000 + r, listener=ear)
        cpu.append(time.process_time() - t)
    print(f"   screened 32-voice cartridge: median {statistics.median(cpu):.2f} s CPU "
          f"(min {min(cpu):.2f}, max {max(cpu):.2f}; bench average {cpu_per_cart:.2f}); "
          "target <= 3 s")
    from dx7d.daemon.knobs import LatentKnobs
    from dx7d.engine_cpp import Synth
    from dx7d.voices import Patch

    synth = Synth(48000, 16)
    knobs = LatentKnobs(model, {16 + d: d for d in range(model.latent)})
    edit = Patch.from_vced(test.voices[order[0]].tobytes() + b"KNOB TEST ")
    synth.load_patch(edit)
    synth.note_on(60, 100)
    times = []
    for k in range(400):
        t = time.perf_counter()
        edit, changed = knobs.move(16 + k % model.latent, (k * 13) % 128, edit)
        synth.load_patch(edit)
        if changed is not None:
            synth.voice_parameter(changed, edit.get_param(changed))
        times.append(time.perf_counter() - t)
        synth.render(128)
    times.sort()
    p99 = times[int(0.99 * len(times))]
    print(f"   knob move (decode + load + update sounding notes): median "
          f"{1000 * statistics.median(times):.2f} ms, p99 {1000 * p99:.2f} ms; target <= 5 ms")
    tr = model.meta["train"]
    print(f"   training: {tr['seconds']:.0f} s wall, {tr['steps']} steps, {tr['epochs']} epochs "
          f"on {tr['voices']} voices ({tr.get('command', '')})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
