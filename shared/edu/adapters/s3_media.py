"""Object storage for videos (S3): browser uploads into the raw bucket through presigned
POST forms, HLS outputs into the private media bucket, presigned GETs for playback."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t",
                 ".jpg": "image/jpeg"}


class S3MediaStorage:
    def __init__(self, client: Any, raw_bucket: str, media_bucket: str) -> None:
        self.client = client
        self.raw_bucket = raw_bucket
        self.media_bucket = media_bucket

    def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_s: int
                       ) -> tuple[str, dict[str, str]]:
        post = self.client.generate_presigned_post(
            self.raw_bucket, key, Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type},
                        ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_s)
        return str(post["url"]), {k: str(v) for k, v in post["fields"].items()}

    def download_upload(self, key: str, path: Path) -> None:
        self.client.download_file(self.raw_bucket, key, str(path))  # streamed to disk

    def publish_dir(self, directory: Path, prefix: str) -> int:
        files = sorted(p for p in directory.iterdir() if p.is_file())
        # Segments first and the master playlist last: a reader never finds a playlist
        # that names a segment not uploaded yet.
        segments = [p for p in files if p.suffix != ".m3u8"]
        variants = [p for p in files if p.suffix == ".m3u8" and p.name != "master.m3u8"]
        masters = [p for p in files if p.name == "master.m3u8"]
        with ThreadPoolExecutor(max_workers=4) as pool:
            for group in (segments, variants, masters):
                list(pool.map(lambda p: self._put(p, prefix + p.name), group))
        return len(files)

    def _put(self, path: Path, key: str) -> None:
        ctype = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        self.client.upload_file(str(path), self.media_bucket, key,
                                ExtraArgs={"ContentType": ctype})

    def read_media(self, key: str) -> str | None:
        try:
            obj = self.client.get_object(Bucket=self.media_bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        return str(obj["Body"].read().decode("utf-8"))

    def media_url(self, key: str, expires_s: int) -> str:
        return str(self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.media_bucket, "Key": key},
            ExpiresIn=expires_s))
