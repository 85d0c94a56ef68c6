"""Generated test videos (a moving test pattern and a tone) for demo data, tests and benches,
made with the project's ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_clip(path: Path, *, seconds: float = 3, size: str = "854x480", audio: bool = True,
              fps: int = 25) -> Path:
    from edu.adapters.ffmpeg import ffmpeg_path

    cmd = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f",
           "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-shortest",
            str(path)]
    subprocess.run(cmd, check=True, timeout=300)
    return path
