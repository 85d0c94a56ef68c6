"use client";
// Editing a course: its fields, sections and lessons, lesson videos, publishing.
import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { api, loadCourse, type Course, type Syllabus } from "@/lib/api";
import { useAuth } from "@/lib/auth";
import { useSearchParam } from "@/lib/hooks";
import { CourseFormFields, readCourseForm } from "@/components/CourseForm";
import { VideoUpload } from "@/components/VideoUpload";
import { ErrorBox, Loading, Notice } from "@/components/ui";

export default function EditCoursePage() {
  const id = useSearchParam("id");
  const { user, ready } = useAuth();
  const [course, setCourse] = useState<Course | null>(null);
  const [syllabus, setSyllabus] = useState<Syllabus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const base = id ? `/courses/${encodeURIComponent(id)}` : "";

  const load = useCallback(async () => {
    if (!id) return;
    try {
      const [c, s] = await loadCourse(id);
      setCourse(c);
      setSyllabus(s);
    } catch (err) {
      setError(err);
    }
  }, [id]);
  useEffect(() => {
    if (ready && user) void load();
  }, [ready, user, load]);

  const act = async (what: () => Promise<unknown>, done: string) => {
    setError(null);
    setNotice(null);
    try {
      await what();
      await load();
      setNotice(done);
    } catch (err) {
      setError(err);
    }
  };

  if (!ready) return <Loading />;
  if (!user) return <p><Link href="/login/">Log in</Link> to edit courses.</p>;
  if (id === null) return <ErrorBox error={new Error("No course was given.")} />;
  if (!course || !syllabus) return error ? <ErrorBox error={error} /> : <Loading what="Loading the course" />;
  const published = course.status === "published";

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-3">
        <h1>{course.title}</h1>
        <span className={`rounded px-2 text-xs ${published ? "bg-emerald-100 text-emerald-800" : "bg-amber-100 text-amber-800"}`}>{course.status}</span>
        <span className="ml-auto flex gap-2">
          {published && <Link className="btn-secondary" href={`/course/?id=${encodeURIComponent(course.id)}`}>View</Link>}
          <button type="button" className={published ? "btn-secondary" : "btn"}
                  onClick={() => void act(() => api(`${base}/${published ? "unpublish" : "publish"}`, { method: "POST" }),
                    published ? "Course unpublished." : "Course published: students can find it now.")}>
            {published ? "Unpublish" : "Publish"}
          </button>
        </span>
      </div>
      <ErrorBox error={error} />
      {notice && <Notice>{notice}</Notice>}

      <section aria-labelledby="syllabus" className="space-y-3">
        <h2 id="syllabus">Sections and lessons</h2>
        {syllabus.sections.map((section) => (
          <div key={section.id} className="card">
            <h3 className="font-semibold">{section.title}</h3>
            <ol className="my-2 space-y-2 text-sm">
              {(section.lessons ?? []).map((lesson) => (
                <li key={lesson.id} className="rounded border border-slate-100 p-2">
                  <span className="mr-2 rounded bg-slate-100 px-1 text-xs text-slate-600">{lesson.kind === "video" ? "Video" : "Text"}</span>
                  <span>{lesson.title}</span>
                  {lesson.free_preview && <span className="ml-2 rounded bg-emerald-100 px-2 text-xs">free preview</span>}
                  {lesson.kind === "video" && <VideoUpload courseId={course.id} lessonId={lesson.id} title={lesson.title} />}
                </li>
              ))}
            </ol>
            <form
              className="flex flex-wrap items-end gap-2"
              aria-label={`New lesson in ${section.title}`}
              onSubmit={(e) => {
                e.preventDefault();
                const form = e.currentTarget;
                const data = new FormData(form);
                void act(() => api(`${base}/sections/${encodeURIComponent(section.id)}/lessons`, {
                  method: "POST",
                  body: { title: String(data.get("title")), kind: String(data.get("kind")),
                          body: String(data.get("body") ?? ""), free_preview: data.get("free_preview") === "on" },
                }).then(() => form.reset()), "Lesson added.");
              }}
            >
              <div>
                <label className="label text-xs" htmlFor={`lesson-title-${section.id}`}>Lesson title</label>
                <input id={`lesson-title-${section.id}`} name="title" className="input" required minLength={3} maxLength={200} />
              </div>
              <div>
                <label className="label text-xs" htmlFor={`lesson-kind-${section.id}`}>Kind</label>
                <select id={`lesson-kind-${section.id}`} name="kind" className="input">
                  <option value="text">Text</option><option value="video">Video</option>
                </select>
              </div>
              <div>
                <label className="label text-xs" htmlFor={`lesson-body-${section.id}`}>Text</label>
                <input id={`lesson-body-${section.id}`} name="body" className="input" maxLength={200000} />
              </div>
              <div className="flex items-center gap-1 pb-2 text-xs">
                <input id={`lesson-free-${section.id}`} type="checkbox" name="free_preview" />
                <label htmlFor={`lesson-free-${section.id}`}>Free preview</label>
              </div>
              <button type="submit" className="btn-secondary">Add lesson</button>
            </form>
          </div>
        ))}
        <form
          className="card flex items-end gap-2"
          aria-label="New section"
          onSubmit={(e) => {
            e.preventDefault();
            const form = e.currentTarget;
            const title = String(new FormData(form).get("section_title"));
            void act(() => api(`${base}/sections`, { method: "POST", body: { title } }).then(() => form.reset()), "Section added.");
          }}
        >
          <div className="grow">
            <label className="label" htmlFor="section-title">New section title</label>
            <input id="section-title" name="section_title" className="input" required minLength={3} maxLength={200} />
          </div>
          <button type="submit" className="btn-secondary">Add section</button>
        </form>
      </section>

      <section aria-labelledby="details">
        <h2 id="details" className="mb-2">Details</h2>
        <form
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            const fields = readCourseForm(e.currentTarget);
            // If-Match: the version this form was filled from, so an edit made meanwhile
            // (another tab, an API key) is not overwritten silently (412 instead).
            void act(() => api(base, { method: "PATCH", body: fields,
                                       headers: { "if-match": `"v${course.version}"` } }),
                     "Course saved.");
          }}
        >
          <CourseFormFields course={course} />
          <button type="submit" className="btn">Save</button>
        </form>
      </section>
    </div>
  );
}
