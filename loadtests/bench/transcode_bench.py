"""Transcode benchmark: a generated 60 s 720p clip (moving test pattern + tone) to the HLS
ladder (720p/480p/360p), as a multiple of realtime, with ffmpeg's peak memory. Each variant
runs in its own process so peak RSS is its own. Not a test: prints numbers for
docs/benchmarks.md.

    .venv/bin/python loadtests/bench/transcode_bench.py [--seconds 60] [--repeat 1]

Variants: the baseline a first script would write (one ffmpeg run per rendition, x264's
default preset), then one decode split into every rendition at several x264 presets. SSIM
of the top and lowest rendition against the (scaled) source shows what speed costs.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for extra in ("infra", "shared", ""):
    sys.path.insert(0, str(ROOT / extra))

from edu.adapters.ffmpeg import FfmpegTranscoder, ffmpeg_path, scale_filter  # noqa: E402
from edu.video.models import ladder_for  # noqa: E402
from localcloud.media import make_clip  # noqa: E402

VARIANTS = {
    "baseline: a run per rendition, preset medium": ("separate", "medium"),
    "one decode split 3 ways, medium": ("split", "medium"),
    "one decode split 3 ways, veryfast": ("split", "veryfast"),
    "one decode split 3 ways, superfast (ours)": ("split", "superfast"),
}


def run_variant(source: Path, mode: str, preset: str) -> dict[str, float]:
    transcoder = FfmpegTranscoder(preset=preset)
    probe = transcoder.probe(source)
    ladder = ladder_for(probe)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        if mode == "split":
            transcoder.transcode(source, Path(out), probe, ladder, 3600, lambda _p: None)
        else:
            for spec in ladder:
                subprocess.run(
                    [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-i",
                     str(source), "-vf", scale_filter(probe, spec), "-c:v", "libx264",
                     "-preset", preset, "-b:v", f"{spec.video_kbps}k", "-c:a", "aac",
                     "-b:a", "128k", "-f", "hls", "-hls_time", "4", "-hls_playlist_type",
                     "vod", str(Path(out) / f"{spec.name}.m3u8")], check=True)
        wall = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        size = sum(p.stat().st_size for p in Path(out).iterdir())
        quality = {spec.name: ssim(Path(out) / f"{spec.name}.m3u8", source, spec.short_side)
                   for spec in (ladder[0], ladder[-1])}  # the two the table shows
    return {"wall_s": wall, "realtime_x": probe.duration_s / wall,
            "peak_ffmpeg_mib": peak_kib / 1024, "output_mib": size / 2**20,
            "ssim_top": quality[ladder[0].name], "ssim_low": quality[ladder[-1].name]}


def ssim(rendition: Path, source: Path, height: int) -> float:
    """SSIM of a rendition against the source scaled to its size (1.0 = identical); NaN when
    this ffmpeg cannot read the rendition back (imageio-ffmpeg 0.6.0's static 7.0.2 build
    crashes in its MPEG-TS demuxer, so its HLS segments cannot be compared)."""
    done = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-nostdin", "-i", str(rendition), "-i", str(source),
         "-lavfi", f"[1:v]scale=-2:{height}[ref];[0:v][ref]ssim", "-f", "null", "-"],
        capture_output=True, text=True, check=False)
    match = re.search(r"All:([0-9.]+)", done.stderr)
    return float(match[1]) if done.returncode == 0 and match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--content", choices=["pattern", "lecture"], default="pattern",
                        help="pattern: motion and detail in every frame (hard); lecture: "
                        "a still slide with a small moving picture-in-picture")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:  # child process: one variant, JSON out
        print(json.dumps(run_variant(Path(args.source), *VARIANTS[args.variant])))
        return
    with tempfile.TemporaryDirectory() as work:
        source = make_clip(Path(work) / "source.mp4", seconds=args.seconds, size="1280x720",
                           fps=30, content=args.content)
        rows: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
        for _ in range(args.repeat):
            for name in VARIANTS:
                out = subprocess.run([sys.executable, __file__, "--variant", name,
                                      "--source", str(source)], capture_output=True,
                                     text=True, check=True).stdout
                rows[name].append(json.loads(out))
    base = min(r["wall_s"] for r in rows[next(iter(VARIANTS))])
    if any(math.isnan(r["ssim_top"]) for results in rows.values() for r in results):
        print(f"SSIM: n/a, {ffmpeg_path()} cannot read the HLS segments back")
    print(f"{args.seconds} s 1280x720 30 fps {args.content} source -> 720p/480p/360p HLS, "
          f"best of {args.repeat}")
    print(f"{'variant':46} {'wall s':>7} {'x realtime':>10} {'vs base':>8} "
          f"{'peak MiB':>9} {'out MiB':>8} {'SSIM top':>8} {'SSIM low':>8}")
    for name, results in rows.items():
        best = min(results, key=lambda r: r["wall_s"])
        print(f"{name:46} {best['wall_s']:7.1f} {best['realtime_x']:10.2f} "
              f"{base / best['wall_s']:7.2f}x {best['peak_ffmpeg_mib']:9.0f} "
              f"{best['output_mib']:8.1f} {best['ssim_top']:8.4f} {best['ssim_low']:8.4f}")


if __name__ == "__main__":
    main()
