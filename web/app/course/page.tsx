"use client";
// A course: description, syllabus (free previews open to everyone), price, enroll / buy.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { api, ApiError, formatPrice, loadCourse, type Course, type PaymentStarted, type Syllabus } from "@/lib/api";
import { useAuth } from "@/lib/auth";
import { useSearchParam } from "@/lib/hooks";
import { loginHref } from "@/lib/navigation";
import { Checkout } from "@/components/Checkout";
import { LiveSessions } from "@/components/LiveSessions";
import { ErrorBox, Loading } from "@/components/ui";

export default function CoursePage() {
  const id = useSearchParam("id");
  const { user, ready } = useAuth();
  const router = useRouter();
  const [course, setCourse] = useState<Course | null>(null);
  const [syllabus, setSyllabus] = useState<Syllabus | null>(null);
  const [enrolled, setEnrolled] = useState(false);
  const [payment, setPayment] = useState<PaymentStarted | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    if (!id) return;
    setError(null);
    try {
      const [c, s] = await loadCourse(id);
      setCourse(c);
      setSyllabus(s);
    } catch (err) {
      setError(err);
    }
  }, [id]);
  useEffect(() => void load(), [load]);

  useEffect(() => {
    if (!id || !user) {
      setEnrolled(false);
      return;
    }
    api(`/courses/${encodeURIComponent(id)}/progress`)
      .then(() => setEnrolled(true))
      .catch(() => setEnrolled(false));
  }, [id, user]);

  if (id === null) return <ErrorBox error={new Error("No course was given.")} />;
  if (error) return <ErrorBox error={error} onRetry={() => void load()} />;
  if (!course || !syllabus) return <Loading what="Loading the course" />;
  const learn = `/learn/?id=${encodeURIComponent(course.id)}`;
  const owner = user?.id === course.teacher_id;

  const enroll = async () => {
    if (!user) {
      router.push(loginHref());
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await api<PaymentStarted | { id: string }>(
        `/courses/${encodeURIComponent(course.id)}/enroll`, { method: "POST" });
      if ("client_secret" in answer) setPayment(answer);
      else router.push(learn);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) router.push(learn); // already enrolled
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="grid gap-6 lg:grid-cols-3">
      <div className="lg:col-span-2">
        <p className="text-sm text-slate-600">{course.category} · {course.level} · {course.language}</p>
        <h1 className="my-2">{course.title}</h1>
        {course.subtitle && <p className="mb-4 text-lg text-slate-700">{course.subtitle}</p>}
        <p className="mb-6 whitespace-pre-line">{course.description}</p>
        <h2 className="mb-2">Syllabus</h2>
        {syllabus.sections.length === 0 && <p className="text-sm text-slate-600">No lessons yet.</p>}
        <ol className="space-y-3">
          {syllabus.sections.map((section) => (
            <li key={section.id} className="card">
              <h3 className="font-semibold">{section.title}</h3>
              <ol className="mt-2 space-y-1 text-sm">
                {(section.lessons ?? []).map((lesson) => (
                  <li key={lesson.id} className="flex items-center gap-2">
                    <span className="w-10 rounded bg-slate-100 text-center text-xs text-slate-600">{lesson.kind === "video" ? "Video" : "Text"}</span>
                    {enrolled || lesson.free_preview ? (
                      <Link href={`${learn}&lesson=${encodeURIComponent(lesson.id)}`}>{lesson.title}</Link>
                    ) : (
                      <span>{lesson.title}</span>
                    )}
                    {lesson.free_preview && !enrolled && (
                      <span className="rounded bg-emerald-100 px-2 text-xs text-emerald-800">Free preview</span>
                    )}
                  </li>
                ))}
              </ol>
            </li>
          ))}
        </ol>
        <LiveSessions courseId={course.id} owner={owner} canJoin={enrolled} />
      </div>
      <aside className="card h-fit" aria-label="Enrollment">
        <p className="mb-3 text-2xl font-bold">{formatPrice(course.price)}</p>
        {owner ? (
          <Link className="btn w-full" href={`/teach/course/?id=${encodeURIComponent(course.id)}`}>Edit course</Link>
        ) : enrolled ? (
          <Link className="btn w-full" href={learn}>Continue learning</Link>
        ) : payment ? (
          <Checkout courseId={course.id} payment={payment} onEnrolled={() => router.push(learn)} />
        ) : (
          <button type="button" className="btn w-full" disabled={busy || !ready} onClick={enroll}>
            {course.price.amount === 0 ? "Enroll for free" : `Buy for ${formatPrice(course.price)}`}
          </button>
        )}
        {!user && ready && <p className="mt-2 text-xs text-slate-600">You will be asked to log in.</p>}
      </aside>
    </article>
  );
}
