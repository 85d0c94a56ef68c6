// The one HTTP client of the site: same-origin API calls, tokens, transparent refresh,
// RFC 9457 problem documents turned into ApiError.
import type { components } from "./api-types";

export type Schemas = components["schemas"];
export type Course = Schemas["CourseOut"];
export type User = Schemas["UserOut"];
export type TokenPair = Schemas["TokenPair"];
export type Syllabus = Schemas["SyllabusOut"];
export type Section = Schemas["SectionOut"];
export type Lesson = Schemas["LessonOut"];
export type Enrollment = Schemas["EnrollmentOut"];
export type PaymentStarted = Schemas["PaymentStarted"];
export type Progress = Schemas["CourseProgress"];
export type LiveSession = Schemas["LiveSessionOut"];
export type Video = Schemas["VideoOut"];
export type UploadTicket = Schemas["UploadTicket"];
export type Dashboard = Schemas["DashboardOut"];
export type CourseAnalytics = Schemas["CourseAnalyticsOut"];
export type SearchHit = Schemas["SearchHit"];
export type Money = Schemas["Money"];
export type Page<T> = { items: T[]; next_cursor?: string | null };

export type FieldError = { field: string; message: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(detail || title);
  }
}

type Session = { access: string; expiresAt: number };
const SESSION_KEY = "edu.session";
export const SESSION_EVENT = "edu-session";

// The short-lived access token lives in localStorage (the API takes bearer tokens); the
// 30-day refresh token never reaches page scripts: the API keeps it in an HttpOnly,
// SameSite=Strict cookie scoped to /auth/, which the browser sends to /auth/refresh.
export function loadSession(): Session | null {
  if (typeof window === "undefined") return null;
  try {
    const raw = window.localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(pair: TokenPair | null): void {
  if (pair === null) window.localStorage.removeItem(SESSION_KEY);
  else {
    const session: Session = {
      access: pair.access_token,
      expiresAt: Date.now() + pair.expires_in * 1000,
    };
    window.localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  }
  window.dispatchEvent(new Event(SESSION_EVENT));
}

let refreshing: Promise<Session | null> | null = null;

function postRefresh(): Promise<Response | null> {
  return fetch("/auth/refresh", {
    method: "POST",
    headers: { "content-type": "application/json" },
    credentials: "same-origin", // the session cookie carries the refresh token
    body: "{}",
  }).catch(() => null);
}

function retryAfterMs(resp: Response): number {
  const seconds = Number(resp.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 5) * 1000 : 1000;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// One refresh at a time: refresh tokens rotate, so two parallel refreshes would make the
// second one look like a stolen token and end the session.
function refreshSession(): Promise<Session | null> {
  if (!refreshing) {
    refreshing = (async () => {
      const current = loadSession();
      if (!current) return null;
      let resp = await postRefresh();
      if (resp?.status === 429 || resp?.status === 503) {
        await sleep(retryAfterMs(resp)); // a busy server: once more, after the wait it asks
        resp = await postRefresh();
      }
      if (!resp) return current; // offline: keep the session, the call fails on its own
      if (resp.status === 400 || resp.status === 401) {
        // the sign-in ended (expired, revoked, or its token was reused): sign out here too
        saveSession(null);
        return null;
      }
      if (!resp.ok) return current; // the server failed: the session may still be good
      saveSession((await resp.json()) as TokenPair);
      return loadSession();
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

type Query = Record<string, string | number | boolean | null | undefined>;
export type CallOptions = {
  method?: string;
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
};

export function withQuery(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(path: string, options: CallOptions, session: Session | null) {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (session) headers.authorization = `Bearer ${session.access}`;
  return fetch(withQuery(path, options.query), {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
}

export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  let session = loadSession();
  if (session && session.expiresAt - Date.now() < 30_000) session = await refreshSession();
  let resp: Response;
  try {
    resp = await send(path, options, session);
    if (resp.status === 401 && session) {
      session = await refreshSession();
      if (session) resp = await send(path, options, session);
    }
  } catch {
    throw new ApiError(0, "Network error", "The server could not be reached. Try again.");
  }
  if (resp.status === 204) return undefined as T;
  const text = await resp.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const problem = (data ?? {}) as {
      title?: string; detail?: string; message?: string; errors?: FieldError[];
    };
    throw new ApiError(
      resp.status,
      problem.title ?? problem.message ?? resp.statusText,
      problem.detail ?? problem.message ?? `Request failed (${resp.status})`,
      problem.errors ?? [],
    );
  }
  return data as T;
}

/** A course and its syllabus, fetched together (every course page shows both). */
export function loadCourse(id: string): Promise<[Course, Syllabus]> {
  const path = `/courses/${encodeURIComponent(id)}`;
  return Promise.all([api<Course>(path), api<Syllabus>(`${path}/syllabus`)]);
}

/** An amount of money (minor units), e.g. "$19.99". */
export function formatMoney(money: Money): string {
  return new Intl.NumberFormat("en", { style: "currency", currency: money.currency.toUpperCase() })
    .format(money.amount / 100);
}

/** A course's price: "Free" or the amount. */
export function formatPrice(price: Money): string {
  return price.amount === 0 ? "Free" : formatMoney(price);
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = err.fieldErrors
.map((e) => `${e.field}: ${e.message}`);
    return fields.length ? `${err.detail} (${fields.join("; ")})` : err.detail;
  }
  return err instanceof Error ? err.message : String(err);
}
