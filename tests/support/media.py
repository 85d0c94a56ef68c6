"""Test videos generated with the project's ffmpeg (a moving test pattern and a tone)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from edu.adapters.ffmpeg import ffmpeg_path


def make_clip(path: Path, *, seconds: float = 3, size: str = "854x480", audio: bool = True,
              fps: int = 25) -> Path:
    cmd = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f",
           "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-shortest",
            str(path)]
    subprocess.run(cmd, check=True, timeout=120)
    return path


def make_audio_only(path: Path, seconds: float = 2) -> Path:
    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a",
                    "aac", str(path)], check=True, timeout=60)
    return path
