"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useAuth } from "@/lib/auth";

export function Nav() {
  const { user, ready, logout } = useAuth();
  const router = useRouter();
  return (
    <header className="border-b border-slate-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex max-w-6xl flex-wrap items-center gap-4 px-4 py-3">
        <Link href="/" className="text-lg font-bold text-slate-900 no-underline">EduPlatform</Link>
        <Link href="/" className="no-underline hover:underline">Catalog</Link>
        {user && <Link href="/my/" className="no-underline hover:underline">My learning</Link>}
        {user?.role === "teacher" && <Link href="/teach/" className="no-underline hover:underline">Teach</Link>}
        {user?.role === "teacher" && user.is_verified && <Link href="/teach/dashboard/" className="no-underline hover:underline">Dashboard</Link>}
        <span className="ml-auto flex items-center gap-3 text-sm">
          {ready && !user && (
            <>
              <Link href="/login/" className="no-underline hover:underline">Log in</Link>
              <Link href="/register/" className="btn">Sign up</Link>
            </>
          )}
          {user && (
            <>
              <span aria-label="Signed in as">{user.full_name}</span>
              <button
                type="button"
                className="btn-secondary"
                onClick={async () => {
                  await logout();
                  router.push("/");
                }}
              >
                Log out
              </button>
            </>
          )}
        </span>
      </nav>
    </header>
  );
}
