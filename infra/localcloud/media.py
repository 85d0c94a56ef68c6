"""Generated test videos (a moving test pattern and a tone) for demo data, tests and benches,
made with the project's ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_clip(path: Path, *, seconds: float = 3, size: str = "854x480", audio: bool = True,
              fps: int = 25, content: str = "pattern") -> Path:
    """content "pattern": a moving test pattern, detail and motion in every frame (hard to
    encode); "lecture": a still slide-like background with a small moving picture-in-picture
    (what a recorded lesson looks like to an encoder)."""
    from edu.adapters.ffmpeg import ffmpeg_path

    cmd = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    if content == "lecture":
        width, height = (int(n) for n in size.split("x"))
        cmd += ["-f", "lavfi", "-i", f"smptehdbars=size={size}:rate={fps}:duration={seconds}",
                "-f", "lavfi", "-i",
                f"testsrc2=size={width // 4}x{height // 3}:rate={fps}:duration={seconds}",
                "-filter_complex", "[0:v]drawgrid=w=160:h=90:t=2:c=white@0.3[bg];"
                f"[bg][1:v]overlay=x={width * 7 // 10}:y={height * 6 // 10}"]
    else:
        cmd += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-shortest",
            str(path)]
    subprocess.run(cmd, check=True, timeout=300)
    return path
