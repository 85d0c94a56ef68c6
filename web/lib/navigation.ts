"use client";
/** Where to go after signing in: the page that sent the user to the login form, if it is
 *  one of ours (a same-site path), else the home page of the user's role. */
export function nextPath(fallback: string): string {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : fallback;
}

export function loginHref(): string {
  return `/login/?next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
}
