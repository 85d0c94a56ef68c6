"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useAuth } from "@/lib/auth";
import { nextPath } from "@/lib/navigation";
import { ErrorBox, Field } from "@/components/ui";

export default function LoginPage() {
  const { login } = useAuth();
  const router = useRouter();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-4">Log in</h1>
      <form
        className="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          setBusy(true);
          setError(null);
          try {
            const user = await login(String(form.get("email")), String(form.get("password")));
            router.push(nextPath(user.role === "teacher" ? "/teach/" : "/"));
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <Field id="email" label="Email" type="email" autoComplete="email" required />
        <Field id="password" label="Password" type="password" autoComplete="current-password" required />
        <ErrorBox error={error} />
        <button type="submit" className="btn w-full" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
        <p className="mt-3 text-sm">No account yet? <Link href="/register/">Sign up</Link></p>
      </form>
    </div>
  );
}
