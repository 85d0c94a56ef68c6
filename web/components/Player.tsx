"use client";
// HLS player: the browser's own HLS where it has one (Safari), else hls.js, loaded only
// when a video is shown so it stays out of every page's first-load JavaScript.
import { useEffect, useRef } from "react";

export function Player({ src, poster, startAt, onProgress, onEnded, title }: {
  src: string; poster?: string; startAt: number; title: string;
  onProgress: (seconds: number) => void; onEnded: () => void;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const lastSaved = useRef(0);

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    let destroy = () => {};
    if (element.canPlayType("application/vnd.apple.mpegurl")) {
      element.src = src;
    } else {
      let cancelled = false;
      void import("hls.js").then(({ default: Hls }) => {
        if (cancelled || !Hls.isSupported()) return;
        const hls = new Hls();
        hls.loadSource(src);
        hls.attachMedia(element);
        destroy = () => hls.destroy();
      });
      destroy = () => {
        cancelled = true;
      };
    }
    const seek = () => {
      if (startAt > 0 && startAt < element.duration - 1) element.currentTime = startAt;
    };
    element.addEventListener("loadedmetadata", seek, { once: true });
    return () => {
      element.removeEventListener("loadedmetadata", seek);
      destroy();
    };
  }, [src, startAt]);

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
