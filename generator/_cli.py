"""`dx7d corpus`, `dx7d train`, `dx7d generate`, `dx7d explain` (heavy imports inside)."""

from __future__ import annotations

import argparse
import json
import logging
import math
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .corpus import Corpus

__all__ = ["register"]


def _quiet_reader() -> None:
    # the lenient reader logs one warning per repaired file; the corpus report counts them
    logging.getLogger("dx7d.voices").setLevel(logging.ERROR)


def _corpus(args: argparse.Namespace) -> int:
    from .corpus import build_corpus

    _quiet_reader()
    try:
        corpus, report = build_corpus(args.folders, progress=not args.quiet)
    except FileNotFoundError as exc:
        print(f"dx7d: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    if len(corpus) == 0:
        print("dx7d: no voice kept: nothing written", file=sys.stderr)
        return 1
    corpus.save(args.output)
    print(f"{args.output}: {len(corpus)} voices")
    return 0


def _load_corpus(sources: list[str], quiet: bool) -> Corpus:
    """Folders of .syx files, or corpus .npz files (from `dx7d corpus`)."""
    import numpy as np

    from .corpus import Corpus, build_corpus

    _quiet_reader()
    parts: list[str] = []
    folders: list[str] = []
    for s in sources:
        (parts if s.endswith(".npz") else folders).append(s)
    corpora = [Corpus.load(p) for p in parts]
    if folders:
        corpus, report = build_corpus(folders, progress=not quiet)
        print("\n".join(report.lines()))
        corpora.append(corpus)
    if len(corpora) == 1:
        return corpora[0]
    return Corpus(np.concatenate([c.voices for c in corpora]),
                  [n for c in corpora for n in c.names],
                  [s for c in corpora for s in c.sources],
                  np.concatenate([c.categories for c in corpora]))


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    from .evaluate import baseline_accuracy, reconstruction_accuracy, style_shift_lines
    from .model import Model, ModelError
    from .sound import Listener
    from .train import TrainConfig, train

    try:
        corpus = _load_corpus(args.sources, args.quiet)
        start = None if args.scratch else Model.load(args.start)
    except (FileNotFoundError, ValueError, ModelError) as exc:
        print(f"dx7d: {exc}", file=sys.stderr)
        return 1
    if len(corpus) == 0:
        print("dx7d: no voices to train on", file=sys.stderr)
        return 1
    hidden = tuple(int(h) for h in args.hidden.split(","))
    if start is None:
        held = corpus.held_out_mask()
        if held.all() or not held.any():
            held = np.zeros(len(corpus), bool)  # too few files to hold one out
        fit, test = corpus.subset(~held), corpus.subset(held)
        epochs = args.epochs or 60
        cfg = TrainConfig(latent=args.latent, hidden=hidden, epochs=epochs, batch=args.batch,
                          learning_rate=args.learning_rate or 1e-3, beta=args.beta,
                          seed=args.seed)
    else:
        fit, test = corpus, corpus.subset(np.zeros(len(corpus), bool))
        batch = min(args.batch, len(corpus))
        # about 400 steps, however small the set (32 voices: 400 epochs of one batch)
        epochs = args.epochs or max(1, math.ceil(400 / max(1, len(corpus) // batch)))
        cfg = TrainConfig(epochs=epochs, batch=batch, seed=args.seed,
                          learning_rate=args.learning_rate or 2e-3)
    print(f"training on {len(fit)} voices ({'from scratch' if start is None else 'fine-tuning '}"
          f"{'' if start is None else (args.start or 'the default model')}), "
          f"{len(test)} held out, {cfg.epochs} epochs")
    result = train(fit, cfg, start=start, progress=not args.quiet)
    model = result.model
    model.meta["train"]["command"] = " ".join(["dx7d", *sys.argv[1:]]) if sys.argv else ""
    model.meta["train"]["categories"] = {
        name: int((fit.categories == i).sum()) for i, name in enumerate(model.meta["categories"])}
    print(f"trained {result.steps} steps in {result.seconds:.0f} s, final loss "
          f"{result.final_loss:.1f}")
    if len(test):
        acc = reconstruction_accuracy(model, test.voices)
        base = baseline_accuracy(fit.voices, test.voices)
        model.meta["held_out"] = {"voices": len(test), "files": len(set(test.sources)),
                                  "accuracy": round(float(acc.mean()), 4),
                                  "baseline": round(float(base.mean()), 4)}
        print(f"held-out reconstruction ({len(test)} voices of {len(set(test.sources))} files): "
              f"{100 * acc.mean():.1f} % of parameters right, most-common baseline "
              f"{100 * base.mean():.1f} %")
    if start is not None:
        print("what it learned:")
        for line in style_shift_lines(start, model, fit.voices, Listener()):
            print("  " + line)
    model.save(args.output)
    size = Path(args.output).stat().st_size
    print(f"{args.output}: {size / 1e6:.1f} MB")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from .generate import generate
    from .model import Model, ModelError

    try:
        model = Model.load(args.model)
        model.style_index(args.style)
    except (ModelError, ValueError) as exc:
        print(f"dx7d: {exc}", file=sys.stderr)
        return 1
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    try:
        cart = generate(model, style=args.style, seed=seed, temperature=args.temperature)
    except (RuntimeError, ValueError) as exc:
        print(f"dx7d: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print("\n".join(cart.report_lines()))
    data = cart.to_syx()
    if args.output:
        from dx7d.voices import atomic_write

        atomic_write(args.output, data)
        print(f"{args.output}: {len(data)} bytes (seed {seed})")
    if args.send:
        from dx7d.daemon._control_cli import _request

        result = json.loads(_request(args, "PUT", "/cartridge", data))
        print(f"cartridge stored in the daemon: {', '.join(n.strip() for n in result['stored'])}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain
    from .model import Model, ModelError

    try:
        model = Model.load(args.model)
        style = model.style_index(args.style)
    except (ModelError, ValueError) as exc:
        print(f"dx7d: {exc}", file=sys.stderr)
        return 1
    _, lines = explain(model, args.output, style)
    print("\n".join(lines))
    print(f"{args.output}: sweep_d1..d{model.latent}.syx, explain.txt, sweeps.svg")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the generator commands."""
    p = subparsers.add_parser("corpus", help="collect the voices of .syx folders for training")
    p.add_argument("folders", nargs="+", metavar="FOLDER")
    p.add_argument("-o", "--output", required=True, metavar="CORPUS.npz")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_corpus)

    p = subparsers.add_parser("train", help="fine-tune the generator on your own voices "
                                            "(needs the 'train' extra: JAX, optax)")
    p.add_argument("sources", nargs="+", metavar="FOLDER|CORPUS.npz")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.npz")
    p.add_argument("--from", dest="start", metavar="MODEL.npz",
                   help="the model to start from (default: the shipped one)")
    p.add_argument("--scratch", action="store_true",
                   help="train a new model from scratch (holds out ~10 %% of the files)")
    p.add_argument("--epochs", type=int, help="passes over the voices (default: 60 from "
                                              "scratch, ~400 steps fine-tuning)")
    p.add_argument("--latent", type=int, default=8, help="latent dimensions (from scratch)")
    p.add_argument("--hidden", default="512,512", help="hidden layer sizes (from scratch)")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--beta", type=float, default=1.0,
                   help="weight of the KL term (from scratch; default 1.0, the shipped model 0.3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)

    p = subparsers.add_parser("generate", help="generate a new cartridge, every voice "
                                               "listened to")
    p.add_argument("-o", "--output", metavar="NEW.syx")
    p.add_argument("--model", metavar="MODEL.npz", help="default: the shipped model")
    p.add_argument("--style", help="a category: bass, pad, brass, strings, piano, e-piano, "
                                   "organ, bell, lead, pluck, percussion, fx, other")
    p.add_argument("--seed", type=int, help="same seed and model: same bytes (default: random)")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="spread of the latent samples (default 1.0)")
    p.add_argument("--send", action="store_true",
                   help="store it as the running daemon's internal cartridge")
    p.add_argument("--host", metavar="HOST:PORT", help="with --send: the daemon's control "
                                                        "address")
    p.add_argument("--token", help="with --send: bearer token")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-voice report")
    p.set_defaults(func=_generate)

    p = subparsers.add_parser("explain", help="what each latent dimension changes (sweeps)")
    p.add_argument("-o", "--output", required=True, metavar="FOLDER")
    p.add_argument("--model", metavar="MODEL.npz", help="default: the shipped model")
    p.add_argument("--style", help="a category to sweep in (default: any)")
    p.set_defaults(func=_explain)
