"use client";
// Teaching: verification for new teachers, then the teacher's courses and a new course form.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { api, type Course, type Page, type User } from "@/lib/api";
import { useAuth } from "@/lib/auth";
import { CourseFormFields, readCourseForm } from "@/components/CourseForm";
import { ErrorBox, Field, Loading, Notice } from "@/components/ui";

function Verification({ user, onSent }: { user: User; onSent: () => void }) {
  const [error, setError] = useState<unknown>(null);
  if (user.verification_status === "pending") {
    return <Notice>Your verification request is being reviewed. You can create courses once an administrator verifies you.</Notice>;
  }
  return (
    <form
      className="card max-w-xl"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        setError(null);
        try {
          await api("/teachers/me/verification", {
            method: "POST", body: { bio: String(form.get("bio")), link: String(form.get("link")) },
          });
          onSent();
        } catch (err) {
          setError(err);
        }
      }}
    >
      <h2 className="mb-2">Get verified to teach</h2>
      <p className="mb-3 text-sm text-slate-600">
        Only verified teachers can create courses. Tell us about your experience and link to
        your work (a portfolio, profile or repository); an administrator reviews each request.
        {user.verification_status === "rejected" && " Your last request was not accepted; you can send a new one."}
      </p>
      <div className="mb-3">
        <label htmlFor="bio" className="label">About you (at least 20 characters)</label>
        <textarea id="bio" name="bio" className="input" rows={4} minLength={20} maxLength={2000} required />
      </div>
      <Field id="link" label="Link to your work" type="url" required placeholder="https://" />
      <ErrorBox error={error} />
      <button type="submit" className="btn">Ask for verification</button>
    </form>
  );
}

export default function TeachPage() {
  const { user, ready, reload } = useAuth();
  const router = useRouter();
  const [courses, setCourses] = useState<Course[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (user?.role === "teacher" && user.is_verified) {
      api<Page<Course>>("/teacher/courses", { query: { limit: 100 } }).then((p) => setCourses(p.items)).catch(setError);
    }
  }, [user]);

  if (!ready) return <Loading />;
  if (!user) return <p><Link href="/login/?next=/teach/">Log in</Link> as a teacher to create courses.</p>;
  if (user.role !== "teacher") return <p>Teaching needs a teacher account. <Link href="/register/">Create one</Link>.</p>;
  if (!user.is_verified) return (<div><h1 className="mb-4">Teach</h1><Verification user={user} onSent={() => void reload()} /></div>);

  return (
    <div className="grid gap-6 lg:grid-cols-2">
      <section aria-labelledby="my-courses">
        <h1 id="my-courses" className="mb-4">My courses</h1>
        <ErrorBox error={error} />
        {!courses && !error && <Loading what="Loading your courses" />}
        {courses?.length === 0 && <p>No courses yet: create your first one.</p>}
        <ul className="space-y-2">
          {courses?.map((c) => (
            <li key={c.id} className="card flex items-center gap-3">
              <Link href={`/teach/course/?id=${encodeURIComponent(c.id)}`}>{c.title}</Link>
              <span className={`ml-auto rounded px-2 text-xs ${c.status === "published" ? "bg-emerald-100 text-emerald-800" : "bg-amber-100 text-amber-800"}`}>{c.status}</span>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="new-course">
        <h2 id="new-course" className="mb-4 text-2xl">New course</h2>
        <form
          className="card"
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            try {
              const course = await api<Course>("/courses", { method: "POST", body: readCourseForm(e.currentTarget) });
              router.push(`/teach/course/?id=${encodeURIComponent(course.id)}`);
            } catch (err) {
              setError(err);
              setBusy(false);
            }
          }}
        >
          <CourseFormFields />
          <button type="submit" className="btn" disabled={busy}>{busy ? "Creating…" : "Create draft"}</button>
        </form>
      </section>
    </div>
  );
}
