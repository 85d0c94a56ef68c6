"use client";
// The teacher dashboard: totals across the teacher's courses, and one course's series.
import Link from "next/link";
import { useEffect, useState } from "react";
import { api, formatMoney, type Course, type CourseAnalytics, type Dashboard, type Page } from "@/lib/api";
import { useAuth } from "@/lib/auth";
import { BarChart } from "@/components/BarChart";
import { ErrorBox, Loading, Select } from "@/components/ui";

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <div className="card">
      <dt className="text-xs text-slate-600">{label}</dt>
      <dd className="text-2xl font-semibold">{value}</dd>
    </div>
  );
}

const usd = (cents: number) => formatMoney({ amount: cents, currency: "usd" });

export default function DashboardPage() {
  const { user, ready } = useAuth();
  const [dashboard, setDashboard] = useState<Dashboard | null>(null);
  const [courses, setCourses] = useState<Course[]>([]);
  const [courseId, setCourseId] = useState("");
  const [granularity, setGranularity] = useState("day");
  const [report, setReport] = useState<CourseAnalytics | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!user?.is_verified) return;
    api<Dashboard>("/teacher/dashboard").then(setDashboard).catch(setError);
    api<Page<Course>>("/teacher/courses", { query: { limit: 100 } }).then((p) => {
      setCourses(p.items);
      setCourseId((current) => current || (p.items.find((c) => c.status === "published") ?? p.items[0])?.id || "");
    }).catch(setError);
  }, [user]);

  useEffect(() => {
    if (!courseId) return;
    const to = new Date();
    const from = new Date(to.getTime() - (granularity === "week" ? 180 : 30) * 86_400_000);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    let current = true; // a slower answer for the previous choice must not overwrite this one
    api<CourseAnalytics>(`/teacher/courses/${encodeURIComponent(courseId)}/analytics`, {
      query: { from: day(from), to: day(to), granularity },
    }).then((r) => current && setReport(r)).catch((err) => current && setError(err));
    return () => {
      current = false;
    };
  }, [courseId, granularity]);

  if (!ready) return <Loading />;
  if (!user) return <p><Link href="/login/?next=/teach/dashboard/">Log in</Link> to see your dashboard.</p>;
  if (user.role !== "teacher" || !user.is_verified) return <p>The dashboard is for verified teachers. <Link href="/teach/">Get verified</Link>.</p>;

  const revenue = (r: { currency: string; net: number }[]) =>
    r.map((x) => formatMoney({ amount: x.net, currency: x.currency })).join(" + ") || usd(0);

  return (
    <div className="space-y-6">
      <h1>Dashboard</h1>
      <ErrorBox error={error} />
      {!dashboard && !error && <Loading what="Loading your numbers" />}
      {dashboard && (
        <>
          <dl className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Stat label="Students" value={dashboard.students} />
            <Stat label="Active (7 days)" value={dashboard.active_students_7d} />
            <Stat label="Active (30 days)" value={dashboard.active_students_30d} />
            <Stat label="Completion rate" value={`${Math.round(dashboard.completion_rate * 100)}%`} />
            <Stat label="Enrollments" value={dashboard.enrollments} />
            <Stat label="Completions" value={dashboard.completions} />
            <Stat label="Refunds" value={dashboard.refunds} />
            <Stat label="Net revenue" value={revenue(dashboard.revenue)} />
          </dl>
          {dashboard.top_courses.length > 0 && (
            <section aria-labelledby="top">
              <h2 id="top" className="mb-2">Top courses</h2>
              <table className="card w-full text-left text-sm [&_td]:px-2 [&_td]:py-1 [&_th]:px-2 [&_th]:py-1">
                <thead><tr><th scope="col">Course</th><th scope="col">Enrollments</th><th scope="col">Completions</th></tr></thead>
                <tbody>
                  {dashboard.top_courses.map((c) => (
                    <tr key={c.course_id}><td>{c.title}</td><td>{c.enrollments}</td><td>{c.completions}</td></tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
        </>
      )}
      {courses.length > 0 && (
        <section aria-labelledby="course-analytics" className="space-y-3">
          <h2 id="course-analytics">Course analytics</h2>
          <div className="grid grid-cols-2 gap-3">
            <Select id="course" label="Course" value={courseId} onChange={(e) => setCourseId(e.target.value)}
                    options={courses.map((c) => [c.id, c.title])} />
            <Select id="granularity" label="Period" value={granularity} onChange={(e) => setGranularity(e.target.value)}
                    options={[["day", "Last 30 days, by day"], ["week", "Last 6 months, by week"]]} />
          </div>
          {report && (
            <>
              <div className="grid gap-3 lg:grid-cols-3">
                <BarChart title="Enrollments" points={report.series.map((p) => ({ label: p.period_start, value: p.enrollments }))} />
                <BarChart title="Completions" points={report.series.map((p) => ({ label: p.period_start, value: p.completions }))} />
                <BarChart title="Revenue (USD, net)" format={usd}
                          points={report.series.map((p) => ({ label: p.period_start, value: p.revenue.filter((r) => r.currency === "usd").reduce((s, r) => s + r.net, 0) }))} />
              </div>
              <table className="card w-full text-left text-sm [&_td]:px-2 [&_td]:py-1 [&_th]:px-2 [&_th]:py-1" aria-label="Lesson drop-off">
                <thead><tr><th scope="col">#</th><th scope="col">Lesson</th><th scope="col">Completions</th><th scope="col">Reached</th><th scope="col">Drop-off</th></tr></thead>
                <tbody>
                  {report.lessons.map((l) => (
                    <tr key={l.lesson_id}>
                      <td>{l.position}</td><td>{l.title}</td><td>{l.completions}</td>
                      <td>{Math.round(l.reached_rate * 100)}%</td><td>{Math.round(l.drop_off_rate * 100)}%</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </section>
      )}
    </div>
  );
}
