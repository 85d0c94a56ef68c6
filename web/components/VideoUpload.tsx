"use client";
// Upload straight to object storage with the presigned form, a progress bar while it
// goes, then the transcode status until the lesson's video is ready.
import { useCallback, useEffect, useState } from "react";
import { api, errorText, type UploadTicket, type Video } from "@/lib/api";
import { ProgressBar } from "@/components/ui";

function postForm(ticket: UploadTicket, file: File, onProgress: (pct: number) => void) {
  return new Promise<void>((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(ticket.fields)) form.append(k, String(v));
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", ticket.url);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress((e.loaded / e.total) * 100);
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(`Upload refused (${xhr.status}).`)));
    xhr.onerror = () => reject(new Error("Upload failed: the storage could not be reached."));
    xhr.send(form);
  });
}

export function VideoUpload({ courseId, lessonId, title }: { courseId: string; lessonId: string; title: string }) {
  const path = `/courses/${encodeURIComponent(courseId)}/lessons/${encodeURIComponent(lessonId)}/video`;
  const [video, setVideo] = useState<Video | null>(null);
  const [uploading, setUploading] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(() => api<Video>(path).then(setVideo).catch(() => setVideo(null)), [path]);
  useEffect(() => void refresh(), [refresh]);
  const busy = video && !["ready", "failed", "none"].includes(video.status);
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => void refresh(), 2000);
    return () => clearInterval(timer);
  }, [busy, refresh]);

  return (
    <div className="mt-2 text-xs">
      <label className="label text-xs" htmlFor={`file-${lessonId}`}>Video for “{title}”</label>
      <input
        id={`file-${lessonId}`}
        type="file"
        accept="video/*"
        disabled={uploading !== null}
        onChange={async (e) => {
          const file = e.target.files?.[0];
          if (!file) return;
          setError(null);
          setUploading(0);
          try {
            const ticket = await api<UploadTicket>(path, {
              method: "POST", body: { filename: file.name, content_type: file.type || "video/mp4", size_bytes: file.size },
            });
            await postForm(ticket, file, setUploading);
            await refresh();
          } catch (err) {
            setError(errorText(err));
          } finally {
            setUploading(null);
          }
        }}
      />
      {uploading !== null && <div className="mt-1"><ProgressBar value={uploading} label={`Uploading ${title}`} /></div>}
      {video && video.status !== "none" && (
        <p className="mt-1" role="status" aria-live="polite">
          Video: {video.status}
          {video.percent != null && video.status !== "ready" ? ` ${Math.round(video.percent)}%` : ""}
          {video.reason ? ` (${video.reason})` : ""}
        </p>
      )}
      {error && <p role="alert" className="mt-1 text-red-700">{error}</p>}
    </div>
  );
}
