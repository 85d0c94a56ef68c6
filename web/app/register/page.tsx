"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api, type User } from "@/lib/api";
import { useAuth } from "@/lib/auth";
import { ErrorBox, Field } from "@/components/ui";

export default function RegisterPage() {
  const { login } = useAuth();
  const router = useRouter();
  const [role, setRole] = useState<"student" | "teacher">("student");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-4">Create your account</h1>
      <form
        className="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const email = String(form.get("email"));
          const password = String(form.get("password"));
          setBusy(true);
          setError(null);
          try {
            await api<User>("/auth/register", {
              method: "POST",
              body: { email, password, full_name: String(form.get("full_name")), role },
            });
            await login(email, password);
            router.push(role === "teacher" ? "/teach/" : "/");
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <fieldset className="mb-3">
          <legend className="label">I want to</legend>
          <div className="flex gap-4 text-sm">
            <label className="flex items-center gap-2">
              <input type="radio" name="role" value="student" checked={role === "student"}
                     onChange={() => setRole("student")} />
              learn (student)
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" name="role" value="teacher" checked={role === "teacher"}
                     onChange={() => setRole("teacher")} />
              teach (teacher)
            </label>
          </div>
        </fieldset>
        <Field id="full_name" label="Full name" autoComplete="name" required maxLength={200} />
        <Field id="email" label="Email" type="email" autoComplete="email" required />
        <Field id="password" label="Password (at least 10 characters)" type="password"
               autoComplete="new-password" required minLength={10} />
        <ErrorBox error={error} />
        <button type="submit" className="btn w-full" disabled={busy}>
          {busy ? "Creating account…" : "Create account"}
        </button>
        <p className="mt-3 text-sm">Already registered? <Link href="/login/">Log in</Link></p>
      </form>
    </div>
  );
}
