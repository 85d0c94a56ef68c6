"""Pure video rules: the rendition ladder, reading ffmpeg's probe report, playlist rewriting,
playback signatures and upload keys."""

from __future__ import annotations

import time
from pathlib import Path

from edu.adapters.ffmpeg import hls_command, parse_probe, renditions_from_master
from edu.video.models import Probe, ladder_for
from edu.video.ports import InvalidMedia
from edu.video.service import UPLOAD_KEY, PlaybackSigner, rewrite_playlist

REPORT = (
    "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'source':\n"
    "  Duration: 00:01:02.50, start: 0.000000, bitrate: 7534 kb/s\n"
    "  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), "
    "yuv420p(progressive), 1920x1080 [SAR 1:1 DAR 16:9], 7456 kb/s, 30 fps\n"
    "  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo\n")


def names(width: int, height: int) -> list[str]:
    return [s.name for s in ladder_for(Probe(10, width, height, True))]


def test_ladder_never_upscales_and_keeps_1080p_for_full_hd_sources() -> None:
    assert names(1920, 1080) == ["1080p", "720p", "480p", "360p"]
    assert names(1280, 720) == ["720p", "480p", "360p"]
    assert names(1440, 1000) == ["720p", "480p", "360p"]  # 1080p only from >= 1080p
    assert names(720, 1280) == ["720p", "480p", "360p"]   # portrait: by the short side
    assert names(320, 240) == ["240p"]                    # tiny: its own size, once


def test_probe_report_is_parsed() -> None:
    probe = parse_probe(REPORT)
    assert probe == Probe(duration_s=62.5, width=1920, height=1080, has_audio=True)
    rotated = parse_probe(REPORT + "      displaymatrix: rotation of -90.00 degrees\n")
    assert (rotated.width, rotated.height) == (1080, 1920)


def test_probe_rejects_what_is_not_a_video() -> None:
    cases = {
        "source: Invalid data found when processing input": "not a video we can read",
        REPORT.replace("Video: h264", "Audio: mp3").replace("1920x1080", ""): "no video stream",
        REPORT.replace("00:01:02.50", "N/A"): "duration",
    }
    for report, reason in cases.items():
        try:
            parse_probe(report)
        except InvalidMedia as exc:
            assert reason in str(exc)
        else:
            raise AssertionError(f"accepted: {report[:60]!r}")


def test_hls_command_maps_audio_only_when_present() -> None:
    ladder = ladder_for(Probe(10, 1280, 720, True))
    src, out = Path("in.mp4"), Path("out")
    with_audio = " ".join(hls_command("ffmpeg", src, out, Probe(10, 1280, 720, True), ladder))
    assert "split=3" in with_audio and "v:0,a:0,name:720p" in with_audio
    silent = " ".join(hls_command("ffmpeg", src, out, Probe(10, 1280, 720, False), ladder))
    assert "0:a:0" not in silent and "v:2,name:360p" in silent


def test_master_playlist_renditions() -> None:
    master = ('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=3017023,AVERAGE-BANDWIDTH=2998975,'
              'RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"\n720p.m3u8\n\n'
              '#EXT-X-STREAM-INF:BANDWIDTH=951279,RESOLUTION=640x360\n360p.m3u8\n')
    out = renditions_from_master(master)
    assert [(r.name, r.width, r.height, r.bandwidth) for r in out] == [
        ("720p", 1280, 720, 3017023), ("360p", 640, 360, 951279)]


def test_playlists_are_rewritten_uri_by_uri() -> None:
    variant = "#EXTM3U\n#EXTINF:4.0,\n720p_000.ts\n#EXTINF:2.0,\n720p_001.ts\n#EXT-X-ENDLIST\n"
    out = rewrite_playlist(variant, lambda uri: f"https://cdn/{uri}?sig=1")
    assert out.splitlines() == ["#EXTM3U", "#EXTINF:4.0,", "https://cdn/720p_000.ts?sig=1",
                                "#EXTINF:2.0,", "https://cdn/720p_001.ts?sig=1",
                                "#EXT-X-ENDLIST"]


def test_playback_signatures_bind_video_version_and_expiry() -> None:
    signer, now = PlaybackSigner("secret"), time.time()
    sig = signer.sign("c", "l", "u", int(now) + 60)
    assert signer.valid("c", "l", "u", int(now) + 60, sig, now)
    assert not signer.valid("c", "l", "other", int(now) + 60, sig, now)
    assert not signer.valid("c", "l", "u", int(now) + 61, sig, now)
    assert not signer.valid("c", "l", "u", int(now) + 60, sig, now + 61)  # expired
    assert not PlaybackSigner("other").valid("c", "l", "u", int(now) + 60, sig, now)


def test_upload_keys_name_course_lesson_and_upload() -> None:
    ids = ["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"] * 3
    assert UPLOAD_KEY.match("uploads/{}/{}/{}/source.mp4".format(*ids))
    assert not UPLOAD_KEY.match("uploads/{}/{}/{}/../../x.mp4".format(*ids))
    assert not UPLOAD_KEY.match("other/{}/{}/{}/source.mp4".format(*ids))
