"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
import { api, type Enrollment, type LiveSession, type Page } from "@/lib/api";
import { useAuth } from "@/lib/auth";
import { ErrorBox, Loading, ProgressBar } from "@/components/ui";

export default function MyLearningPage() {
  const { user, ready } = useAuth();
  const [items, setItems] = useState<Enrollment[] | null>(null);
  const [live, setLive] = useState<LiveSession[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!user) return;
    api<Page<Enrollment>>("/me/enrollments", { query: { limit: 50 } }).then((p) => setItems(p.items)).catch(setError);
    api<{ items: LiveSession[] }>("/me/live-sessions").then((r) => setLive(r.items)).catch(() => setLive([]));
  }, [user]);
  if (!ready) return <Loading />;
  if (!user) return <p><Link href="/login/?next=/my/">Log in</Link> to see your courses.</p>;
  return (
    <div>
      <h1 className="mb-4">My learning</h1>
      <ErrorBox error={error} />
      {live.length > 0 && (
        <section className="card mb-4" aria-label="Upcoming live sessions">
          <h2 className="mb-2 text-base">Upcoming live sessions</h2>
          <ul className="space-y-1 text-sm">
            {live.map((s) => (
              <li key={s.id}>
                <Link href={`/live/?session=${encodeURIComponent(s.id)}&course=${encodeURIComponent(s.course_id)}`}>{s.title}</Link>
                {" "}· {new Date(s.starts_at).toLocaleString()}{s.status === "live" ? " · live now" : ""}
              </li>
            ))}
          </ul>
        </section>
      )}
      {!items && !error && <Loading what="Loading your courses" />}
      {items?.length === 0 && <p>You are not enrolled in any course yet. <Link href="/">Browse the catalog</Link>.</p>}
      <ul className="grid gap-4 sm:grid-cols-2">
        {items?.map((e) => (
          <li key={e.id} className="card">
            <h2 className="mb-2 text-base"><Link href={`/learn/?id=${encodeURIComponent(e.course_id)}`}>{e.course_title}</Link></h2>
            <ProgressBar value={e.progress_percent ?? 0} label={`Progress in ${e.course_title}`} />
            <p className="mt-1 text-xs text-slate-600">{e.completed_lessons ?? 0} of {e.total_lessons ?? 0} lessons · {e.status}</p>
          </li>
        ))}
      </ul>
    </div>
  );
}
