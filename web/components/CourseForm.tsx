"use client";
// The fields of a course, for creating one and for editing it.
import type { Course } from "@/lib/api";
import { CATEGORIES, Field, LANGUAGES, LEVELS, Select } from "@/components/ui";

export type CourseFields = {
  title: string; subtitle: string; description: string; category: string; level: string;
  language: string; price: { amount: number; currency: string }; tags: string[];
};

export function readCourseForm(form: HTMLFormElement): CourseFields {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? "").trim();
  const price = Number.parseFloat(text("price") || "0");
  return {
    title: text("title"),
    subtitle: text("subtitle"),
    description: text("description"),
    category: text("category"),
    level: text("level"),
    language: text("language"),
    price: { amount: Math.round((Number.isFinite(price) ? price : 0) * 100), currency: "usd" },
    tags: text("tags").split(",").map((t) => t.trim()).filter(Boolean),
  };
}

export function CourseFormFields({ course }: { course?: Course }) {
  return (
    <>
      <Field id="title" label="Title" required minLength={3} maxLength={200} defaultValue={course?.title} />
      <Field id="subtitle" label="Subtitle" maxLength={300} defaultValue={course?.subtitle} />
      <div className="mb-3">
        <label htmlFor="description" className="label">Description</label>
        <textarea id="description" name="description" className="input" rows={4} maxLength={20000}
                  defaultValue={course?.description} />
      </div>
      <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Select id="category" label="Category" options={CATEGORIES} defaultValue={course?.category ?? "programming"} />
        <Select id="level" label="Level" options={LEVELS} defaultValue={course?.level ?? "beginner"} />
        <Select id="language" label="Language" options={LANGUAGES} defaultValue={course?.language ?? "en"} />
        <Field id="price" label="Price (USD, 0 = free)" type="number" min={0} step="0.01"
               defaultValue={course ? (course.price.amount / 100).toFixed(2) : "0"} />
      </div>
      <Field id="tags" label="Tags (comma-separated)" defaultValue={course?.tags.join(", ")} />
    </>
  );
}
