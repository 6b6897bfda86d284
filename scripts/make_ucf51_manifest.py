#!/usr/bin/env python
"""Derive data_manifests/ucf51.json from CCL's UCF51 CNN14 audio-feature archive.

Usage:
    python scripts/make_ucf51_manifest.py [TARBALL] [--out data_manifests/ucf51.json] [--check]

TARBALL defaults to ../shared/data/ucf51_cnn14_audio_features.tar.gz next to the repository
(a development-time input only: the project ships the json, never needs the archive at run time).
``--check`` compares with the existing json instead of writing it (exit 1 if they differ).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from amidlib.data.manifests import build_ucf51_manifest, dumps_manifest  # noqa: E402

DEFAULT_TARBALL = REPO.parent / "shared" / "data" / "ucf51_cnn14_audio_features.tar.gz"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tarball", nargs="?", type=Path, default=DEFAULT_TARBALL)
    ap.add_argument("--out", type=Path, default=REPO / "data_manifests" / "ucf51.json")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    ap.add_argument("--no-verify", action="store_true", help="do not load every array")
    args = ap.parse_args(argv)

    if not args.tarball.is_file():
        ap.error(f"archive not found: {args.tarball}")
    manifest = build_ucf51_manifest(args.tarball, verify_arrays=not args.no_verify)
    text = dumps_manifest(manifest)
    c = manifest["counts"]
    print(
        f"{c['classes']} classes, {c['videos']} videos ({c['train']} train / {c['test']} test), "
        f"{c['missing_in_release']} of the paper's {c['paper_videos']} missing; "
        f"sha256 {manifest['source']['sha256']}"
    )
    if args.check:
        same = args.out.is_file() and json.loads(args.out.read_text()) == json.loads(text)
        print(f"{args.out}: {'up to date' if same else 'DIFFERS'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
