"""ffmpeg as the transcoder: probes a source and writes an H.264/AAC HLS ladder in one run.

The binary comes from the imageio-ffmpeg wheel (the media layer on AWS), which ships ffmpeg
without ffprobe, so probing parses `ffmpeg -i`'s stream report. One ffmpeg process decodes
the source once and encodes every rendition (`split`), reading and writing files on disk so
memory stays flat whatever the video's size.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from edu.video.models import Probe, Rendition, RenditionSpec
from edu.video.ports import InvalidMedia, TranscodeFailed

SEGMENT_S = 4
DURATION = re.compile(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
VIDEO_STREAM = re.compile(r"Stream #\d+:\d+.*?: Video: .*?\b(\d{2,5})x(\d{2,5})\b")
ROTATION = re.compile(r"rotate\s*:\s*(-?\d+)|rotation of (-?\d+(?:\.\d+)?) degrees")
STREAM_INF = re.compile(r"#EXT-X-STREAM-INF:(?P<attrs>.*)\n(?P<uri>[^\n#]+)")


def ffmpeg_path() -> str:
    configured = os.environ.get("EDU_FFMPEG")
    if configured:
        return configured
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def parse_probe(report: str) -> Probe:
    """A Probe from `ffmpeg -i` stderr; InvalidMedia when it is not a playable video."""
    if "Invalid data found when processing input" in report or "moov atom not found" in report:
        raise InvalidMedia("The file is not a video we can read (it may be corrupt or "
                           "incomplete).")
    video = VIDEO_STREAM.search(report)
    if video is None:
        raise InvalidMedia("The file has no video stream.")
    duration = DURATION.search(report)
    seconds = (int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3])
               if duration else 0.0)
    if seconds <= 0:
        raise InvalidMedia("The file's duration is unknown or zero.")
    width, height = int(video[1]), int(video[2])
    rotation = ROTATION.search(report)
    if rotation and abs(int(float(rotation[1] or rotation[2]))) % 180 == 90:
        width, height = height, width  # phones record portrait as rotated landscape
    return Probe(duration_s=seconds, width=width, height=height,
                 has_audio=re.search(r"Stream #\d+:\d+.*?: Audio: ", report) is not None)


def scale_filter(probe: Probe, spec: RenditionSpec) -> str:
    if probe.width >= probe.height:
        return f"scale=-2:{spec.short_side}"
    return f"scale={spec.short_side}:-2"


# x264 `superfast`: 2.35x the baseline's speed for 0.002 less SSIM than `veryfast` at these
# bitrates (docs/benchmarks/journal.md); the ladder's bitrates, not the preset, bound the quality.
PRESET = "superfast"


def hls_command(ffmpeg: str, source: Path, out_dir: Path, probe: Probe,
                ladder: list[RenditionSpec], preset: str = PRESET) -> list[str]:
    """One ffmpeg run for the whole ladder: the source is decoded once and split."""
    n = len(ladder)
    split = f"[0:v]split={n}" + "".join(f"[v{i}]" for i in range(n))
    scaled = ";".join(f"[v{i}]{scale_filter(probe, spec)}[v{i}o]"
                      for i, spec in enumerate(ladder))
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-i", str(source),
           "-filter_complex", f"{split};{scaled}"]
    for i, spec in enumerate(ladder):
        cmd += ["-map", f"[v{i}o]", f"-b:v:{i}", f"{spec.video_kbps}k",
                f"-maxrate:v:{i}", f"{spec.video_kbps * 107 // 100}k",
                f"-bufsize:v:{i}", f"{spec.video_kbps * 3 // 2}k"]
    if probe.has_audio:
        for i, spec in enumerate(ladder):
            cmd += ["-map", "0:a:0", f"-b:a:{i}", f"{spec.audio_kbps}k"]
        cmd += ["-c:a", "aac", "-ac", "2"]
    streams = " ".join(f"v:{i}{f',a:{i}' if probe.has_audio else ''},name:{spec.name}"
                       for i, spec in enumerate(ladder))
    cmd += ["-c:v", "libx264", "-preset", preset, "-profile:v", "high",
            "-pix_fmt", "yuv420p", "-sc_threshold", "0",
            # a keyframe at every segment boundary, so every rendition switches cleanly
            "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_S})",
            "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod",
            "-hls_segment_filename", str(out_dir / "%v_%03d.ts"),
            "-master_pl_name", "master.m3u8", "-var_stream_map", streams,
            "-progress", "pipe:1", "-nostats", str(out_dir / "%v.m3u8")]
    return cmd


def renditions_from_master(master: str) -> list[Rendition]:
    out = []
    for match in STREAM_INF.finditer(master):
        attrs = match["attrs"]
        bandwidth = re.search(r"(?<![-A-Z])BANDWIDTH=(\d+)", attrs)
        resolution = re.search(r"RESOLUTION=(\d+)x(\d+)", attrs)
        out.append(Rendition(name=match["uri"].strip().removesuffix(".m3u8"),
                             width=int(resolution[1]) if resolution else 0,
                             height=int(resolution[2]) if resolution else 0,
                             bandwidth=int(bandwidth[1]) if bandwidth else 0))
    return out


class FfmpegTranscoder:
    def __init__(self, ffmpeg: str | None = None, preset: str = PRESET) -> None:
        self._ffmpeg = ffmpeg
        self.preset = preset

    @property
    def ffmpeg(self) -> str:
        if self._ffmpeg is None:
            self._ffmpeg = ffmpeg_path()
        return self._ffmpeg

    def probe(self, path: Path) -> Probe:
        # `ffmpeg -i` alone exits 1 ("no output file") after printing the report we parse.
        done = subprocess.run([self.ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)],
                              capture_output=True, text=True, errors="replace", timeout=60,
                              check=False)
        if done.returncode < 0:  # killed by a signal: it crashed on this file
            raise InvalidMedia(
                "The video's container could not be read (the transcoder stopped on it); "
                "export it as MP4 (H.264) and upload it again.")
        return parse_probe(done.stderr)

    def transcode(self, source: Path, out_dir: Path, probe: Probe,
                  ladder: list[RenditionSpec], deadline_s: float,
                  on_progress: Callable[[float], None]) -> list[Rendition]:
        started = time.monotonic()
        cmd = hls_command(self.ffmpeg, source, out_dir, probe, ladder, self.preset)
        with tempfile.TemporaryFile() as stderr:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)
            assert proc.stdout is not None
            timed_out = False
            for line in proc.stdout:  # -progress: key=value lines, a block per update
                if line.startswith("out_time_us=") and line[12:].strip().isdigit():
                    done_s = int(line[12:]) / 1e6
                    on_progress(min(99.0, 100.0 * done_s / probe.duration_s))
                if time.monotonic() - started > deadline_s:
                    timed_out = True
                    proc.kill()
                    break
            code = proc.wait()
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        if timed_out:
            raise TranscodeFailed(
                f"Transcoding ran past its time limit ({deadline_s:.0f} s) at "
                f"{probe.duration_s:.0f} s of video; upload a shorter or smaller video.")
        if code != 0:
            raise TranscodeFailed(f"ffmpeg failed (exit {code}): {' | '.join(tail)}")
        self._poster(source, out_dir / "poster.jpg", probe)
        return renditions_from_master((out_dir / "master.m3u8").read_text())

    def _poster(self, source: Path, target: Path, probe: Probe) -> None:
        at = min(1.0, probe.duration_s / 2)
        short = min(480, min(probe.width, probe.height))
        spec = RenditionSpec("poster", short - short % 2, 0)
        done = subprocess.run(
            [self.ffmpeg, "-hide_banner", "-nostdin", "-y", "-ss", f"{at:.2f}", "-i",
             str(source), "-frames:v", "1", "-vf", scale_filter(probe, spec), "-q:v", "3",
             str(target)], capture_output=True, text=True, errors="replace", timeout=120,
            check=False)
        if done.returncode != 0:
            raise TranscodeFailed(f"ffmpeg could not make a poster: {done.stderr[-200:]}")
