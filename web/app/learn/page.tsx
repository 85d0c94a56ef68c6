"use client";
// The learning view: syllabus with what is done, the lesson (HLS video or text), progress
// saved as you watch, mark complete.
import Link from "next/link";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError, loadCourse, type Course, type Lesson, type Progress, type Syllabus, type Video } from "@/lib/api";
import { useAuth } from "@/lib/auth";
import { useSearchParam } from "@/lib/hooks";
import { Player } from "@/components/Player";
import { ErrorBox, Loading, Notice, ProgressBar } from "@/components/ui";

export default function LearnPage() {
  const id = useSearchParam("id");
  const wanted = useSearchParam("lesson");
  const { user, ready } = useAuth();
  const [course, setCourse] = useState<Course | null>(null);
  const [syllabus, setSyllabus] = useState<Syllabus | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [lessonId, setLessonId] = useState<string | null>(null);
  const [video, setVideo] = useState<Video | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const base = id ? `/courses/${encodeURIComponent(id)}` : "";
  useEffect(() => {
    if (!id || !ready) return;
    loadCourse(id)
      .then(([c, s]) => {
        setCourse(c);
        setSyllabus(s);
      })
      .catch(setError);
    if (user) {
      api<Progress>(`${base}/progress`).then(setProgress).catch((err) => {
        if (!(err instanceof ApiError && err.status === 403)) setError(err);
      });
    }
  }, [id, base, user, ready]);

  const lessons = useMemo(() => (syllabus?.sections ?? []).flatMap((s) => s.lessons ?? []), [syllabus]);
  const enrolled = progress !== null;
  const open = useCallback((l: Lesson) => enrolled || l.free_preview, [enrolled]);
  useEffect(() => {
    if (!lessons.length || wanted === undefined) return;
    const first = lessons.find((l) => l.id === wanted) ?? lessons.find(open);
    setLessonId((current) => current ?? first?.id ?? null);
  }, [lessons, wanted, open]);

  const lesson = lessons.find((l) => l.id === lessonId) ?? null;
  const done = (lid: string) => progress?.lessons.some((p) => p.lesson_id === lid && p.completed) ?? false;
  const position = progress?.lessons.find((p) => p.lesson_id === lessonId)?.position_seconds ?? 0;

  // Keyed by what decides the answer, not by `open` itself: the progress answer that tells an
  // enrolled student from a visitor changes `open`, and re-fetching then would swap the player
  // of a free preview already playing.
  const videoLessonId = lesson && lesson.kind === "video" && open(lesson) ? lesson.id : null;
  useEffect(() => {
    setVideo(null);
    if (!videoLessonId) return;
    api<Video>(`${base}/lessons/${encodeURIComponent(videoLessonId)}/video`).then(setVideo).catch(() => setVideo(null));
  }, [videoLessonId, base]);

  const save = useCallback(async (completed: boolean, seconds?: number) => {
    if (!lesson || !enrolled) return;
    try {
      const next = await api<Progress>(`${base}/lessons/${encodeURIComponent(lesson.id)}/progress`, {
        method: "PUT", body: { completed, position_seconds: seconds ?? 0 },
      });
      setProgress(next);
      setSaved(completed ? `“${lesson.title}” marked complete.` : null);
    } catch (err) {
      setError(err);
    }
  }, [lesson, enrolled, base]);

  if (id === null) return <ErrorBox error={new Error("No course was given.")} />;
  if (error) return <ErrorBox error={error} />;
  if (!course || !syllabus) return <Loading what="Loading the course" />;

  return (
    <div className="grid gap-6 lg:grid-cols-4">
      <nav aria-label="Lessons" className="lg:col-span-1">
        <h1 className="mb-2 text-lg"><Link href={`/course/?id=${encodeURIComponent(course.id)}`}>{course.title}</Link></h1>
        {progress && (
          <div className="mb-3">
            <ProgressBar value={progress.progress_percent} label="Course progress" />
            <p className="mt-1 text-xs text-slate-600" aria-live="polite">
              {progress.completed_lessons} of {progress.total_lessons} lessons done
              ({Math.round(progress.progress_percent)}%)
            </p>
          </div>
        )}
        <ol className="space-y-1 text-sm">
          {lessons.map((l) => (
            <li key={l.id}>
              <button
                type="button"
                disabled={!open(l)}
                aria-current={l.id === lessonId ? "true" : undefined}
                className={`w-full rounded px-2 py-1 text-left ${l.id === lessonId ? "bg-indigo-100 font-medium" : "hover:bg-slate-100"} disabled:text-slate-400`}
                onClick={() => setLessonId(l.id)}
              >
                <span aria-label={done(l.id) ? "completed" : undefined}>{done(l.id) ? "✓ " : ""}</span>
                {l.title}
              </button>
            </li>
          ))}
        </ol>
      </nav>
      <section className="lg:col-span-3" aria-label="Lesson">
        {!lesson && <p>Choose a lesson.</p>}
        {lesson && (
          <>
            <h2 className="mb-3 text-xl">{lesson.title}</h2>
            {lesson.kind === "video" && video?.status === "ready" && video.playback && (
              <Player src={video.playback.master_url} poster={video.playback.poster_url} title={lesson.title}
                      startAt={position} onProgress={(s) => void save(done(lesson.id), s)}
                      onEnded={() => void save(true)} />
            )}
            {lesson.kind === "video" && video && video.status !== "ready" && (
              <p className="card text-sm">The video is {video.status}{video.percent != null ? ` (${Math.round(video.percent)}%)` : ""}.</p>
            )}
            {lesson.kind === "video" && !video && <p className="card text-sm">No video for this lesson yet.</p>}
            {lesson.body && <div className="card mt-3 whitespace-pre-line">{lesson.body}</div>}
            {saved && <Notice>{saved}</Notice>}
            {enrolled ? (
              <button type="button" className="btn mt-4" disabled={done(lesson.id)} onClick={() => void save(true, position)}>
                {done(lesson.id) ? "Completed" : "Mark complete"}
              </button>
            ) : (
              <p className="mt-4 text-sm text-slate-600">
                This is a free preview. <Link href={`/course/?id=${encodeURIComponent(course.id)}`}>Enroll</Link> to track your progress.
              </p>
            )}
          </>
        )}
      </section>
    </div>
  );
}
