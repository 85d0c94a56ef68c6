import Link from "next/link";
import { formatPrice, type Course } from "@/lib/api";

export function CourseCard({ course, highlight }: { course: Course; highlight?: string }) {
  return (
    <li className="card flex flex-col gap-2">
      <h3 className="text-base font-semibold">
        <Link href={`/course/?id=${encodeURIComponent(course.id)}`}>{course.title}</Link>
      </h3>
      {highlight ? (
        <p className="text-sm text-slate-600">{highlight}</p>
      ) : (
        course.subtitle && <p className="text-sm text-slate-600">{course.subtitle}</p>
      )}
      <p className="mt-auto flex flex-wrap gap-2 text-xs text-slate-600">
        <span className="rounded bg-slate-100 px-2 py-0.5 text-slate-700">{course.category}</span>
        <span className="rounded bg-slate-100 px-2 py-0.5 text-slate-700">{course.level}</span>
        <span className="rounded bg-slate-100 px-2 py-0.5 text-slate-700">{course.language}</span>
        <span className="ml-auto font-semibold text-slate-800">{formatPrice(course.price)}</span>
      </p>
    </li>
  );
}
