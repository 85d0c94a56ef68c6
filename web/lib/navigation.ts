"use client";
/** Where to go after signing in: the page that sent the user to the login form, if it is
 *  one of ours (a same-origin path), else the home page of the user's role. */
export function nextPath(fallback: string): string {
  return safeNext(new URLSearchParams(window.location.search).get("next"),
                  window.location.origin) ?? fallback;
}

/** `next` as a path of `origin`, or null when it would leave it. It is resolved as the
 *  browser would (tabs and newlines dropped, `\` read as `/`), and refused when its decoded
 *  form could still be read as another host (`/%5Cevil.example`, `//evil.example`). */
export function safeNext(next: string | null, origin: string): string | null {
  if (!next) return null;
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin) return null;
  const path = url.pathname + url.search + url.hash;
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(decoded) || decoded.startsWith("//")) return null;
  return path;
}

export function loginHref(): string {
  return `/login/?next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
}
