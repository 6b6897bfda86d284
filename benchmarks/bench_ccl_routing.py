"""CCL's composition routing: what the public code's 2·L(v, av) and 2·JSD into the composition change.

yanbeic/CCL's ``training.py`` (``train_a_epoch``) zeroes the composition's gradients only before the first of
its two backward passes, so the composition steps on L(v, av) and the JSD twice (``core/methods/ccl.py``).
This trains CCL on the cpu profile's two digit-pair settings (batch 16, the reproduction's runs) with
``ccl_compose_repeat`` 1 (the public routing, our default) and 0 (one optimizer on the plain sum), paired by
seed, and writes each accuracy's paired difference with its 95 % t interval. Its runs go to their own cache
(``--cache-dir``), so the reproduction's cache is not touched.

    python benchmarks/bench_ccl_routing.py [--seeds 10] [--out benchmarks/RESULTS_ccl_routing.md]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from amidlib.core.experiment import atomic_write_text
from amidlib.paper.stats import paired_effect
from amidlib.repro import profiles, runs
from amidlib.repro.reproduction_files import cpu_name
from amidlib.repro.specs import make_spec

ARMS = {"public routing (repeat 1)": 1.0, "plain sum (repeat 0)": 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--cache-dir", default="runs/bench_ccl_routing/cache")
    ap.add_argument("--out", default="benchmarks/RESULTS_ccl_routing.md")
    args = ap.parse_args()
    prof = profiles.load_profile("cpu", cache_dir=args.cache_dir)
    study = runs.Study(prof)
    started = time.perf_counter()
    lines = ["# CCL composition routing: public (2·L(v, av), 2·JSD into the composition) vs plain sum\n",
             f"`python benchmarks/bench_ccl_routing.py --seeds {args.seeds}` on {cpu_name()}, profile cpu "
             f"(batch 16), seeds 0-{args.seeds - 1}, paired by seed. Difference = public − plain sum "
             "(percentage points), 95 % t interval.\n",
             "| setting | accuracy | public routing | plain sum | difference [95 % CI] |",
             "|---|---|---|---|---|"]
    for pairing in prof.pairings:
        cells = {arm: [runs.Cell("bench", pairing.key, pairing.paper, "ccl",
                                 make_spec(prof, pairing, "ccl", seed, ccl_compose_repeat=repeat))
                       for seed in range(args.seeds)] for arm, repeat in ARMS.items()}
        frames = {arm: study.runs(c) for arm, c in cells.items()}
        public, plain = (frames[arm] for arm in ARMS)
        for metric in ("student_top1", "teacher_top1"):
            e = paired_effect(public[metric], plain[metric])
            lines.append(f"| {pairing.paper} analogue ({pairing.key}) | "
                         f"{metric} | {public[metric].mean():.2f} | {plain[metric].mean():.2f} | "
                         f"{e.effect:+.2f} [{e.ci_low:+.2f}, {e.ci_high:+.2f}] |")
    lines.append(f"\n{study.trained} run(s) trained in {time.perf_counter() - started:.0f} s.")
    text = "\n".join(lines) + "\n"
    print(text)
    atomic_write_text(Path(args.out), text)


if __name__ == "__main__":
    main()
