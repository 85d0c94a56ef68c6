"use client";
// A course's live sessions: upcoming ones with a link to their room (for the teacher and
// enrolled students), and for the course's teacher a form to schedule one.
import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { api, type LiveSession } from "@/lib/api";
import { ErrorBox, Field } from "@/components/ui";

export function LiveSessions({ courseId, owner, canJoin }: { courseId: string; owner: boolean; canJoin: boolean }) {
  const [sessions, setSessions] = useState<LiveSession[]>([]);
  const [error, setError] = useState<unknown>(null);
  const base = `/courses/${encodeURIComponent(courseId)}/live-sessions`;
  const load = useCallback(() => {
    api<{ items: LiveSession[] }>(base).then((r) => setSessions(r.items)).catch(setError);
  }, [base]);
  useEffect(load, [load]);

  const schedule = async (form: FormData) => {
    setError(null);
    const when = new Date(String(form.get("starts_at")));
    try {
      await api(base, { method: "POST", body: { title: form.get("title"), starts_at: when.toISOString() } });
      load();
    } catch (err) {
      setError(err);
    }
  };

  const open = sessions.filter((s) => s.status === "scheduled" || s.status === "live");
  if (!owner && open.length === 0) return null;
  return (
    <section className="card mt-6" aria-label="Live sessions">
      <h2 className="mb-2">Live sessions</h2>
      {error !== null && <ErrorBox error={error} />}
      <ul className="space-y-1 text-sm">
        {open.map((s) => (
          <li key={s.id} className="flex items-center gap-2">
            <span>{s.title} · {new Date(s.starts_at).toLocaleString()} · {s.status}</span>
            {(owner || canJoin) && (
              <Link href={`/live/?session=${encodeURIComponent(s.id)}&course=${encodeURIComponent(courseId)}`}>Join the room</Link>
            )}
          </li>
        ))}
      </ul>
      {owner && (
        <form className="mt-3 grid gap-2" action={schedule}>
          <Field label="Session title" id="live-title" name="title" required maxLength={200} />
          <Field label="Starts at" id="live-starts" name="starts_at" type="datetime-local" required />
          <button type="submit" className="btn">Schedule a live session</button>
        </form>
      )}
    </section>
  );
}
