"use client";
// HLS player: hls.js, loaded only when a video is shown so it stays out of every page's
// first-load JavaScript.
import { useEffect, useRef } from "react";

export function Player({ src, poster, startAt, onProgress, onEnded, title }: {
  src: string; poster?: string; startAt: number; title: string;
  onProgress: (seconds: number) => void; onEnded: () => void;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const lastSaved = useRef(0);
  // Where to start is read when the video loads: a saved position arriving later (each pause
  // saves one) must not reload the source under the viewer.
  const start = useRef(startAt);
  start.current = startAt;

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    let destroy = () => {};
    let cancelled = false;
    // hls.js wherever Media Source Extensions exist (it plays the same everywhere); the
    // browser's own HLS only without them (iOS Safari). Chromium now answers "maybe" for
    // native HLS, so that answer is not a reason to skip hls.js.
    void import("hls.js").then(({ default: Hls }) => {
      if (cancelled) return;
      if (Hls.isSupported()) {
        const hls = new Hls();
        hls.loadSource(src);
        hls.attachMedia(element);
        destroy = () => hls.destroy();
      } else if (element.canPlayType("application/vnd.apple.mpegurl")) {
        element.src = src;
      }
    });
    const seek = () => {
      const at = start.current;
      if (at > 0 && at < element.duration - 1) element.currentTime = at;
    };
    element.addEventListener("loadedmetadata", seek, { once: true });
    return () => {
      element.removeEventListener("loadedmetadata", seek);
      cancelled = true;
      destroy();
    };
  }, [src]);

  return (
    <video
      ref={video}
      controls
      playsInline
      poster={poster}
      aria-label={`Video: ${title}`}
      className="aspect-video w-full rounded-lg bg-black"
      onTimeUpdate={(e) => {
        const now = Math.floor(e.currentTarget.currentTime);
        if (Math.abs(now - lastSaved.current) >= 10) { // save as you watch, every 10 s
          lastSaved.current = now;
          onProgress(now);
        }
      }}
      onPause={(e) => onProgress(Math.floor(e.currentTarget.currentTime))}
      onEnded={onEnded}
    />
  );
}
