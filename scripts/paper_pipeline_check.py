"""The notebooks' paper profile, end to end, on generated clips: one prepared check for a lent GPU.

    python scripts/paper_pipeline_check.py            # CUDA: R(2+1)D-18 at 16x112x112, bf16, preset paper_video
    python scripts/paper_pipeline_check.py --cpu      # smoke test: the tiny 3D-CNN student on the CPU

It writes a data root in the paper layout (``amidlib/data/paper_root.py``) to a temporary folder:
UCF51-style videos (generated AVI files with B-frames, MPEG-4 part 2 like UCF101's XviD, with a PCM
track, 2 s at 128x160, so 16-frame clips and 112x112 crops fit) and CCL-format audio features; one
listed video is then deleted (missing) and one overwritten with garbage (corrupt), and the profile runs
with ``on_bad="skip"`` and 2 decode workers, so both are left out and reported in each run's record and
in the table header ("used N of M videos"); then runs Table 1's UCF51 column exactly as
``notebooks/02_amid_training.ipynb`` does under ``profile=paper`` (``runs.Study`` →
``load_paper_dataset`` → ``run(..., preset="paper_video")`` with checkpoints), for ``--epochs``
epochs, and prints the table, the wall time per method, the peak GPU memory and whether every
loss stayed finite. Then the resume: AMID again in a fresh run cache, stopped right after its first
epoch's checkpoint (as Ctrl-C or a lost machine would), and the same build again, which resumes it from
that checkpoint; its numbers are compared with the uninterrupted run's. Numbers on generated clips are
not the paper's: this checks the pipeline.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from amidlib.paper import plans, tables  # noqa: E402
from amidlib.repro import profiles, runs  # noqa: E402
from amidlib.testing.ucf51 import make_ucf51_layout  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpu", action="store_true", help="tiny 3D-CNN student on the CPU (smoke test)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--classes", type=int, default=4)
    p.add_argument("--per-class", type=int, default=6)
    p.add_argument("--out", type=Path, default=None, help="also write the report here (markdown)")
    args = p.parse_args(argv)
    device = "cpu" if args.cpu else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("paper_pipeline_check: no CUDA device here; use --cpu for the smoke test")

    lines: list[str] = []

    def out(s: str = "") -> None:
        print(s, flush=True)
        lines.append(s)

    with tempfile.TemporaryDirectory(prefix="amid_paper_check_") as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        manifest = make_ucf51_layout(tmp / "data", n_classes=args.classes, per_class=args.per_class,
                                     test_per_class=1, size=(128, 160), seconds=2.0, fps=16, suffix=".avi",
                                     b_frames=2)
        videos = sorted((tmp / "data/ucf51/videos").rglob("*.avi"))
        train_videos = [v for v in videos if "_g01_" not in v.name]  # group 1 is the test split
        gone, broken = train_videos[-1], train_videos[0]  # training videos of two classes
        gone.unlink()
        broken.write_bytes(b"RIFF\x00\x10\x00\x00AVI LIST" + bytes(range(256)) * 8)
        out(f"# paper profile pipeline check on {device}: {args.classes} classes x {args.per_class} generated clips, "
            f"{args.epochs} epochs (data written in {time.perf_counter() - started:.1f} s)")
        ucf51 = profiles.PROFILES["paper"].pairings[0]
        overrides = {"num_workers": 2, "warmup_epochs": max(1, args.epochs // 2)}
        video = {"video_student": "tiny3d", "dim": 32, "hidden": 32, "d_hidden": 16, "batch_size": 4,
                 "eval_batch_size": 4} if args.cpu else {"batch_size": 4, "eval_batch_size": 8}
        prof = profiles.load_profile(
            "paper", data_root=tmp / "data", device=device, epochs=args.epochs, seeds=[0], n_jobs=1,
            out_dir=tmp / "figures", cache_dir=tmp / "runs/cache", feature_dir=tmp / "runs/features",
            pairings=(ucf51,), overrides=overrides, dataset_overrides={"ucf51": video},
            data_options={"ucf51": {"manifest": str(manifest), "on_bad": "skip"}}, on_bad="skip",
        )
        profiles.check_requirements(prof, ("ucf51",))
        out(prof.describe())
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        study = runs.Study(prof)
        t0 = time.perf_counter()
        t1 = tables.build_table(study, "table1")
        wall = time.perf_counter() - t0
        cells = plans.plan_table1(prof)
        out()
        out("| method | top-1 | wall s | epochs | losses finite | checkpoint kept |")
        out("|---|---|---|---|---|---|")
        all_finite = True
        for cell, res in zip(cells, study.results(cells), strict=True):
            loss_cols = [c for c in res.history.columns if c.startswith("loss_")]
            # NaN: a term that does not run in that epoch (warm-up); a NaN loss would have stopped training
            finite = not np.isinf(res.history[loss_cols].to_numpy(dtype=float)).any()
            all_finite &= finite
            ckpt = (prof.paths.cache_dir / ".checkpoints" / cell.spec.key() / "last.pt").is_file()
            top1 = res.metrics.get("teacher_top1" if cell.row == "teacher" else "student_top1")
            out(f"| {cell.row} | {top1:.1f} | {res.config['wall_seconds']:.1f} | {len(res.history)} | {finite} | "
                f"{ckpt} |")
        peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan")
        out()
        out(f"Table 1 (UCF51 column) built in {wall:.1f} s; peak GPU memory {peak:.2f} GiB; every loss finite: "
            f"{all_finite}")
        first = study.results(cells[:1])[0].config
        out(f"amp {first['amp']}, preset {cells[0].spec.preset}, student {first['video_student']}, "
            f"optimizer {first.get('optimizer')}, decode workers {first['num_workers']}, "
            f"test clips per video {first['data']['test']['clip']['test_clips']}")
        rel = {gone.relative_to(tmp / 'data/ucf51/videos').as_posix(),
               broken.relative_to(tmp / 'data/ucf51/videos').as_posix()}
        skipped = {b["file"]: b["problem"] for b in first["data"]["train"]["bad_inputs"]["skipped"]}
        out(f"run record: {first['data']['videos']['line']}; skipped: "
            + "; ".join(f"{f} ({p})" for f, p in sorted(skipped.items())))
        all_finite &= rel <= set(skipped)  # both bad files reported
        all_finite &= _resume_check(prof, tmp, cells, study, out)
        out()
        md = (prof.paths.out_dir / "table1.md").read_text()
        out(md[:md.index("\n|")].strip())  # the header, with the line of videos used
        out()
        out(tables.to_markdown(t1))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
        print(f"written to {args.out}")
    return 0 if all_finite else 1


def _resume_check(prof, tmp: Path, cells, study, out) -> bool:
    """AMID stopped after its first epoch's checkpoint, then resumed by the same build: the same numbers as
    the uninterrupted run (on CPU exactly; on CUDA within float noise). Returns whether it resumed."""
    from amidlib.core import training

    again = prof.replace(cache_dir=tmp / "runs/cache_resume", keep_checkpoints=True)
    amid = next(c for c in plans.plan_table1(again) if c.row == "amid")
    saves = []
    real_save = training.save_checkpoint

    def save_then_stop(*args, **kwargs):
        path = real_save(*args, **kwargs)
        saves.append(path)
        raise KeyboardInterrupt("the check stops the run after its first checkpoint")

    training.save_checkpoint = save_then_stop
    try:
        runs.Study(again, verbose=False).ensure([amid.spec])
    except KeyboardInterrupt:
        pass
    finally:
        training.save_checkpoint = real_save
    stopped = len(saves) == 1 and saves[0].is_file()
    resumed = runs.Study(again, verbose=False).results([amid])[0]
    first = study.results([c for c in cells if c.row == "amid"])[0]
    same = resumed.history.drop(columns="phase").round(4).equals(first.history.drop(columns="phase").round(4))
    out(f"resume: AMID stopped after epoch 1 of {len(first.history)} (checkpoint written: {stopped}), resumed from it: "
        f"student top-1 {resumed.metrics['student_top1']:.1f} (uninterrupted {first.metrics['student_top1']:.1f}); "
        f"per-epoch history equal to 4 decimals: {same}")
    return stopped and len(resumed.history) == len(first.history)


if __name__ == "__main__":
    raise SystemExit(main())
