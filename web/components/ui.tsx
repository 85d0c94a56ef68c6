"use client";
// Small shared pieces: status messages, form fields, a loading line.
import { errorText } from "@/lib/api";

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div role="alert" className="my-3 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800">
      {errorText(error)}
      {onRetry && (
        <button type="button" className="btn-secondary ml-3" onClick={onRetry}>Try again</button>
      )}
    </div>
  );
}

export function Notice({ children }: { children: React.ReactNode }) {
  return (
    <div role="status" className="my-3 rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900">
      {children}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return <p role="status" aria-live="polite" className="text-sm text-slate-600">{what}…</p>;
}

type FieldProps = React.InputHTMLAttributes<HTMLInputElement> & { label: string; id: string };
export function Field({ label, id, ...input }: FieldProps) {
  return (
    <div className="mb-3">
      <label htmlFor={id} className="label">{label}</label>
      <input id={id} name={id} className="input" {...input} />
    </div>
  );
}

type SelectProps = React.SelectHTMLAttributes<HTMLSelectElement> & {
  label: string; id: string; options: [string, string][];
};
export function Select({ label, id, options, ...select }: SelectProps) {
  return (
    <div className="mb-3">
      <label htmlFor={id} className="label">{label}</label>
      <select id={id} name={id} className="input" {...select}>
        {options.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
      </select>
    </div>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const pct = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}
         className="h-2 w-full overflow-hidden rounded bg-slate-200">
      <div className="h-full bg-indigo-600 transition-all" style={{ width: `${pct}%` }} />
    </div>
  );
}

export const CATEGORIES: [string, string][] = [
  ["programming", "Programming"], ["devops", "DevOps"], ["data", "Data"], ["design", "Design"],
  ["art", "Art"], ["business", "Business"], ["music", "Music"], ["languages", "Languages"],
];
export const LEVELS: [string, string][] = [
  ["beginner", "Beginner"], ["intermediate", "Intermediate"], ["advanced", "Advanced"],
];
export const LANGUAGES: [string, string][] = [
  ["en", "English"], ["es", "Spanish"], ["de", "German"], ["fr", "French"], ["ja", "Japanese"],
  ["pt", "Portuguese"],
];
