"""What each latent dimension does: sweeps measured on renders, and a picture.

For dimension d, 32 voices are decoded from z = 0 with z_d going from -3 to +3 sigma;
each is rendered and measured (dx7d.generator.sound). The figures that change most
along the sweep, relative to how much they vary over the whole set of sweeps, give
the line that says what the dimension changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from dx7d.voices import Bank, Patch

from .model import ANY_STYLE, Model
from .sound import Listener, Sound, sound_vector

__all__ = ["FIGURES", "Sweep", "describe", "explain", "knob_steps", "sweep", "sweeps_svg"]

SWEEP_STEPS: Final = 32
SIGMA: Final = 3.0
# (figure, word for "more", word for "less", unit, how to read it off a Sound)
FIGURES: Final = (
    ("brightness", "brighter", "darker", "Hz"),
    ("attack", "slower attack", "faster attack", "s"),
    ("decay", "longer decay", "shorter decay", "s"),
    ("noisiness", "noisier", "purer", "flatness"),
    ("pitch", "higher", "lower", "semitones"),
    ("level", "louder", "quieter", "dB"),
)


def _figure(s: Sound, name: str) -> float:
    return {"brightness": s.brightness, "attack": s.attack_s, "decay": s.decay_s,
            "noisiness": s.flatness, "pitch": s.pitch, "level": s.level_db}[name]


@dataclass
class Sweep:
    """One dimension's sweep: z values, voices, their sounds and the figures per step."""

    dimension: int
    z: npt.NDArray[np.float32]  # (steps,) values of z_d
    voices: npt.NDArray[np.uint8]
    sounds: list[Sound]
    figures: dict[str, npt.NDArray[np.float64]]

    def smoothness(self) -> tuple[float, float]:
        """(mean, coefficient of variation) of the sound distance between neighbours."""
        v = np.stack([sound_vector(s) for s in self.sounds])
        steps = np.linalg.norm(np.diff(v, axis=0), axis=1)
        return float(steps.mean()), float(steps.std() / max(steps.mean(), 1e-9))

    def bank(self) -> Bank:
        patches = []
        for i, v in enumerate(self.voices[:32]):
            name = f"D{self.dimension + 1} {self.z[i]:+.1f}"[:10]
            patches.append(Patch.from_vced(v.tobytes() + name.ljust(10).encode("ascii")))
        return Bank(patches + [Patch() for _ in range(32 - len(patches))])


def sweep(model: Model, dimension: int, listener: Listener, style: int = ANY_STYLE,
          steps: int = SWEEP_STEPS, centre: npt.NDArray[np.float32] | None = None) -> Sweep:
    """Decode and render ``steps`` voices along one latent dimension (-3..+3 sigma)."""
    base = np.zeros(model.latent, np.float32) if centre is None else centre.astype(np.float32)
    values = np.linspace(-SIGMA, SIGMA, steps).astype(np.float32)
    z = np.repeat(base[None, :], steps, axis=0)
    z[:, dimension] = values
    voices = model.decode(z, style)
    sounds = [listener.listen(v) for v in voices]
    figures = {name: np.array([_figure(s, name) for s in sounds]) for name, *_ in FIGURES}
    return Sweep(dimension, values, voices, sounds, figures)


def knob_steps(model: Model, dimension: int, voice: npt.NDArray[np.uint8], listener: Listener,
               steps: int = 16) -> tuple[npt.NDArray[np.float64], float]:
    """A knob turned from 0 to 127 in ``steps`` moves through the daemon's knob path
    (dx7d.daemon.knobs, around ``voice``): the sound-vector distance between neighbouring
    steps, and between the two ends."""
    from dx7d.daemon.knobs import LatentKnobs

    knobs = LatentKnobs(model, {16: dimension})
    edit = Patch.from_vced(voice.tobytes() + b"KNOB SWEEP")
    vectors = []
    for value in np.linspace(0, 127, steps).round().astype(int):
        edit, _ = knobs.move(16, int(value), edit)
        vectors.append(sound_vector(listener.listen(
            np.frombuffer(edit.to_vced()[:145], np.uint8))))
    v = np.stack(vectors)
    return np.linalg.norm(np.diff(v, axis=0), axis=1), float(np.linalg.norm(v[-1] - v[0]))


def describe(sweeps: list[Sweep]) -> list[str]:
    """One line per dimension: the figures it moves most, with the change end to end.

    A figure's change is its correlation with z_d times its spread along the sweep,
    measured in units of its spread over all sweeps, so figures in different units
    compare; the two largest are named.
    """
    spread = {name: float(np.std(np.concatenate([s.figures[name] for s in sweeps]))) or 1.0
              for name, *_ in FIGURES}
    lines = []
    for s in sweeps:
        scores = []
        for name, more, less, unit in FIGURES:
            f = s.figures[name]
            if np.std(f) == 0:
                continue
            r = float(np.corrcoef(s.z, f)[0, 1])
            ends = float(np.mean(f[-4:]) - np.mean(f[:4]))  # +3 sigma end minus -3 end
            scores.append((abs(r) * np.std(f) / spread[name], name, more if ends > 0 else less,
                           ends, unit))
        scores.sort(reverse=True)
        mean, cv = s.smoothness()
        said = "; ".join(f"{word} ({ends:+.3g} {unit})" for _, _, word, ends, unit
                         in scores[:2]) or "no measurable change"
        lines.append(f"dimension {s.dimension + 1}: towards +3 sigma: {said} "
                     f"[neighbour step {mean:.2f}, variation {cv:.2f}]")
    return lines


def sweeps_svg(sweeps: list[Sweep]) -> str:
    """A grid of small line charts: a row per dimension, a column per figure."""
    cell_w, cell_h, left, top = 150, 70, 70, 30
    width = left + cell_w * len(FIGURES) + 10
    height = top + cell_h * len(sweeps) + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    for j, (name, _, _, unit) in enumerate(FIGURES):
        out.append(f'<text x="{left + j * cell_w + cell_w / 2}" y="18" text-anchor="middle">'
                   f'{name} ({unit})</text>')
    for i, s in enumerate(sweeps):
        y0 = top + i * cell_h
        out.append(f'<text x="8" y="{y0 + cell_h / 2}">dim {s.dimension + 1}</text>')
        for j, (name, *_) in enumerate(FIGURES):
            x0 = left + j * cell_w
            f = s.figures[name]
            lo, hi = float(f.min()), float(f.max())
            span = hi - lo or 1.0
            pts = " ".join(
                f"{x0 + 5 + (cell_w - 15) * k / (len(f) - 1):.1f},"
                f"{y0 + cell_h - 10 - (cell_h - 20) * (v - lo) / span:.1f}"
                for k, v in enumerate(f))
            out.append(f'<rect x="{x0 + 2}" y="{y0 + 4}" width="{cell_w - 6}" '
                       f'height="{cell_h - 8}" fill="none" stroke="#ccc"/>')
            out.append(f'<polyline points="{pts}" fill="none" stroke="#1565c0" '
                       f'stroke-width="1.5"/>')
            out.append(f'<text x="{x0 + cell_w - 6}" y="{y0 + 14}" text-anchor="end" '
                       f'fill="#666">{hi:.3g}</text>')
            out.append(f'<text x="{x0 + cell_w - 6}" y="{y0 + cell_h - 6}" '
                       f'text-anchor="end" fill="#666">{lo:.3g}</text>')
    out.append(f'<text x="{left}" y="{height - 5}" fill="#666">each chart: z from -3 (left) '
               f'to +3 sigma (right), other dimensions 0</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def explain(model: Model, out_dir: str | Path, style: int = ANY_STYLE,
            listener: Listener | None = None) -> tuple[list[Sweep], list[str]]:
    """Write sweep_dN.syx per dimension, sweeps.svg and explain.txt into ``out_dir``."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    ear = listener or Listener()
    sweeps = [sweep(model, d, ear, style) for d in range(model.latent)]
    for s in sweeps:
        s.bank().write(folder / f"sweep_d{s.dimension + 1}.syx")
    lines = describe(sweeps)
    (folder / "explain.txt").write_text("\n".join(lines) + "\n")
    (folder / "sweeps.svg").write_text(sweeps_svg(sweeps))
    return sweeps, lines
