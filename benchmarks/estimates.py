"""The paper profile's time per table and in all, on 1, 8 and 64 GPUs: **estimates**, from named inputs.

Every number below comes from the inputs at the top of this file, each marked as measured (with where)
or assumed. Change an input (e.g. to what `make gpu-check` measured on your machine) and rerun:

    python benchmarks/estimates.py            # writes benchmarks/ESTIMATES.md (the one table of estimates)

A run trains ``epochs`` epochs; each epoch is bounded by the slower of the GPU's step and the decode
workers; evaluation decodes one centre clip per test video every ``eval_every`` epochs, then all K test
clips per video and K clips per training video (the retrieval gallery) once at the end.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

# --- inputs: (value, "measured: where" | "assumed: why") ----------------------------------------------------
GPU_TRAIN_CLIPS_S = (320.0, "measured: AMID's step at batch 16 took 50 ms on the H200 (first GPU run, issue 18)")
GPU_EVAL_FACTOR = (3.0, "assumed: a forward pass alone is about a third of a training step")
UCF_DECODE_TRAIN_PER_CORE = (49.0, "measured: one core of the H200 machine, UCF-sized B-frame AVIs (issue 19)")
UCF_DECODE_TEST_PER_CORE = (171.0, "measured: same machine, test clips")
SEEKABLE_GAIN = (1.4, "measured on generated AVIs here: 1.3-1.5x training clips/s from the seekable copies "
                      "(RESULTS_loader_seekable.md); real content not measured")
ANET_SLOWDOWN = (3.0, "assumed: 1.57x measured on this CPU (an ActivityNet-like 640x360 mp4 clip 154 ms vs a "
                      "UCF51 AVI clip 98 ms, docs/paper_profile.md), about 2x more for ActivityNet's many 720p videos")
WORKERS = (12, "the paper_video preset's num_workers; assumed to scale linearly on 16 cores")
IEMOCAP_RUN_H = (1 / 60, "assumed: a GRU run over cached features, about a minute")


@dataclass(frozen=True)
class Dataset:
    name: str
    train: int            # training videos (one clip each per epoch)
    test: int             # test videos
    slowdown: float = 1.0  # decode cost per clip relative to UCF51's AVIs


UCF51 = Dataset("UCF51", 4893, 1944)
ANET = Dataset("ActivityNet", 10024, 4926, ANET_SLOWDOWN[0])
EPOCHS, EVAL_EVERY, TEST_CLIPS = 300, 25, 10  # paper_video; PAPER_CLIP


def run_hours(d: Dataset, seekable: bool = False, workers: int | None = None) -> tuple[float, float]:
    """(training hours, evaluation hours) of one 300-epoch run on one GPU with ``workers`` decode workers."""
    gain = SEEKABLE_GAIN[0] if seekable else 1.0
    workers = WORKERS[0] if workers is None else workers
    decode_train = workers * UCF_DECODE_TRAIN_PER_CORE[0] * gain / d.slowdown
    decode_test = workers * UCF_DECODE_TEST_PER_CORE[0] / d.slowdown
    train_rate = min(GPU_TRAIN_CLIPS_S[0], decode_train)
    eval_rate = min(GPU_TRAIN_CLIPS_S[0] * GPU_EVAL_FACTOR[0], decode_test)
    eval_clips = EPOCHS // EVAL_EVERY * d.test + TEST_CLIPS * (d.test + d.train)
    return EPOCHS * d.train / train_rate / 3600, eval_clips / eval_rate / 3600


def tables(seekable: bool = False) -> list[tuple[str, int, float]]:
    """(table, runs, hours per run) for 3 seeds; Table 2 reuses Table 1's runs."""
    ucf = sum(run_hours(UCF51, seekable))
    anet = sum(run_hours(ANET))
    return [("Table 1, UCF51 column", 21, ucf), ("Table 1, ActivityNet column", 21, anet), ("Table 2", 0, 0.0),
            ("Table 3 (IEMOCAP, GRU over cached features)", 65, IEMOCAP_RUN_H[0]), ("Table 4 (UCF51)", 9, ucf),
            ("Table 5 (UCF51; 4 fixed-teacher runs pre-train a teacher first)", 12 + 4, ucf),
            ("Table 6 (UCF51)", 45, ucf)]


def report() -> str:
    rows = tables()
    fast = tables(seekable=True)
    total = sum(n * h for _, n, h in rows)
    total_fast = sum(n * h for _, n, h in fast)
    longest = max(h for _, n, h in rows if n)
    ut, ue = run_hours(UCF51)
    at, ae = run_hours(ANET)
    lines = ["# The paper profile's time: estimates", "",
             "**Estimates, not measurements**: computed by `benchmarks/estimates.py` from the inputs below. "
             "Replace an input with your `make gpu-check` numbers and rerun it.", "",
             "| input | value | source |", "|---|---|---|"]
    for name, (value, source) in (("GPU training clips/s (AMID, batch 16)", GPU_TRAIN_CLIPS_S),
                                  ("GPU evaluation speed-up over a training step", GPU_EVAL_FACTOR),
                                  ("UCF51 training clips/s per decode core", UCF_DECODE_TRAIN_PER_CORE),
                                  ("UCF51 test clips/s per decode core", UCF_DECODE_TEST_PER_CORE),
                                  ("seekable copies: training decode speed-up", SEEKABLE_GAIN),
                                  ("ActivityNet decode cost per clip / UCF51's", ANET_SLOWDOWN),
                                  ("decode workers per GPU", WORKERS), ("IEMOCAP run (h)", IEMOCAP_RUN_H)):
        lines.append(f"| {name} | {value:g} | {source} |")
    lines += ["", f"One UCF51 run: {ut:.2f} h training + {ue:.2f} h evaluation; one ActivityNet run: {at:.2f} h + "
              f"{ae:.2f} h. Training is bound by "
              f"{'decoding' if WORKERS[0] * UCF_DECODE_TRAIN_PER_CORE[0] < GPU_TRAIN_CLIPS_S[0] else 'the GPU'} on "
              "UCF51.",
              "", "| table | runs (3 seeds) | h per run | GPU-hours | GPU-hours, UCF51 from seekable copies |",
              "|---|---|---|---|---|"]
    for (name, n, h), (_, _, hf) in zip(rows, fast, strict=True):
        lines.append(f"| {name} | {n} | {h:.2f} | {n * h:.0f} | {n * hf:.0f} |")
    lines.append(f"| **all** | **{sum(n for _, n, _ in rows)}** | | **{total:.0f}** | **{total_fast:.0f}** |")
    lines += ["", "| GPUs (one run per GPU, longest first) | wall time (est.) |", "|---|---|"]
    for g in (1, 8, 64):
        wall = max(total / g, longest)
        lines.append(f"| {g} | {wall:.0f} h ≈ {wall / 24:.1f} days"
                     + (" (bound: one ActivityNet run)" if wall == longest else "") + " |")
    lines += ["", "Decode workers per GPU and one UCF51 run (training h): where the copies matter", "",
              "| decode workers | from the AVIs | from the seekable copies | bound |", "|---|---|---|---|"]
    for w in (2, 4, 6, 8, 12):
        avi, copy = run_hours(UCF51, False, w)[0], run_hours(UCF51, True, w)[0]
        bound = "GPU" if w * UCF_DECODE_TRAIN_PER_CORE[0] >= GPU_TRAIN_CLIPS_S[0] else (
            "decoding" if w * UCF_DECODE_TRAIN_PER_CORE[0] * SEEKABLE_GAIN[0] < GPU_TRAIN_CLIPS_S[0]
            else "decoding (AVIs), GPU (copies)")
        lines.append(f"| {w} | {avi:.2f} | {copy:.2f} | {bound} |")
    lines += ["", "Extractions run once before the tables (not above): CNN14 over ActivityNet's audio ≈ 1 h, "
              "IEMOCAP's DenseNet / wav2vec 2.0 / BERT ≈ 1.5–2 h (estimates, docs/paper_profile.md)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    text = report()
    out = HERE / "ESTIMATES.md"
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, out)
    print(text)
