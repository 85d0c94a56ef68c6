// The site's main journeys, in a real browser against the running local stack.
// EDU_WEB_TEACHER_EMAIL / EDU_WEB_TEACHER_PASSWORD name a verified teacher (the pytest
// wrapper creates one; against `edu up`, the demo teacher).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { PASSWORD, accessibilityProblems, launch, login, newPage, register, screenshot, unique } from "./browser.mjs";

const TEACHER_EMAIL = process.env.EDU_WEB_TEACHER_EMAIL ?? "teacher@demo.eduplatform.dev";
const TEACHER_PASSWORD = process.env.EDU_WEB_TEACHER_PASSWORD ?? "demo-password-2026";
const topic = unique("Quokka");  // a word no other course has, so search finds exactly ours
const freeTitle = `${topic} Gardening Basics`;
const paidTitle = `${topic} Advanced Pruning`;
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A short H.264 clip: EDU_WEB_CLIP (the pytest wrapper makes one), else made here with the
 *  project's own ffmpeg helper. */
function clip() {
  if (process.env.EDU_WEB_CLIP) return process.env.EDU_WEB_CLIP;
  const file = path.join(mkdtempSync(path.join(tmpdir(), "edu-web-")), "intro.mp4");
  const python = path.join(import.meta.dirname, "..", "..", ".venv", "bin", "python");
  assert.ok(existsSync(python), "set EDU_WEB_CLIP or run ./dev.sh setup");
  execFileSync(python, ["-c", `from pathlib import Path; from localcloud.media import make_clip; make_clip(Path(${JSON.stringify(file)}), seconds=4, size="640x360")`]);
  return file;
}

async function createCourse(page, { title, price, lessons, kind = "text" }) {
  await page.goto("/teach/");
  await page.getByRole("heading", { name: "New course" }).waitFor();
  await page.getByLabel("Title", { exact: true }).fill(title);
  await page.getByLabel("Subtitle").fill("Grow things that last");
  await page.getByLabel("Description").fill(`Everything about ${title}.`);
  await page.getByLabel("Category", { exact: true }).selectOption("art");
  await page.getByLabel("Price (USD, 0 = free)").fill(price);
  await page.getByRole("button", { name: "Create draft" }).click();
  await page.getByRole("heading", { name: title }).waitFor();
  await page.getByLabel("New section title").fill("First steps");
  await page.getByRole("button", { name: "Add section" }).click();
  await page.getByRole("heading", { name: "First steps" }).waitFor();
  const lessonForm = page.getByRole("form", { name: "New lesson in First steps" });
  for (const [i, lesson] of lessons.entries()) {
    await lessonForm.getByLabel("Lesson title", { exact: true }).fill(lesson);
    if (kind === "text") await lessonForm.getByLabel("Text", { exact: true }).fill(`Read this: ${lesson}.`);
    if (i === 0) await lessonForm.getByLabel("Free preview").check();
    await lessonForm.getByLabel("Kind", { exact: true }).selectOption(kind);
    await lessonForm.getByRole("button", { name: "Add lesson" }).click();
    await page.getByText(lesson, { exact: false }).first().waitFor();
  }
  if (kind !== "video") await publish(page);
}

async function publish(page) {
  await page.getByRole("button", { name: "Publish" }).click();
  await page.getByText("Course published").waitFor();
}

test("a verified teacher creates and publishes courses", async () => {
  const page = await newPage(browser);
  await login(page, TEACHER_EMAIL, TEACHER_PASSWORD);
  await createCourse(page, { title: freeTitle, price: "0", lessons: ["Soil", "Water", "Light"] });
  await screenshot(page, "teacher-course-editor");
  assert.deepEqual(await accessibilityProblems(page), []);
  // Two tabs on the same course: the second save would overwrite the first; it is refused.
  const editor = page.url();
  const other = await newPage(browser);
  await login(other, TEACHER_EMAIL, TEACHER_PASSWORD);
  await other.goto(editor);
  await other.getByLabel("Subtitle").fill("Edited in another tab");
  await page.getByLabel("Subtitle").fill("Grow things that last, season after season");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Course saved.").waitFor();
  await other.getByRole("button", { name: "Save" }).click();
  await other.getByText(/The course changed since you read it/).waitFor();
  await page.reload();
  assert.equal(await page.getByLabel("Subtitle").inputValue(), "Grow things that last, season after season");
  await createCourse(page, { title: paidTitle, price: "19.99", lessons: ["Tools", "Cuts"] });
  await page.goto("/teach/");
  for (const title of [freeTitle, paidTitle]) {
    const row = page.getByRole("listitem").filter({ hasText: title });
    await row.getByText("published").waitFor();
  }
  await screenshot(page, "teacher-courses");
  assert.deepEqual(page.pageErrors, []);
});

test("a teacher uploads a lesson video and anyone watches the free preview", async () => {
  const page = await newPage(browser);
  await login(page, TEACHER_EMAIL, TEACHER_PASSWORD);
  const title = `${topic} Video Course`;
  await createCourse(page, { title, price: "0", lessons: ["Welcome clip"], kind: "video" });
  await page.getByLabel("Video for “Welcome clip”").setInputFiles(clip());
  // Straight to object storage with the presigned form, then the transcode queue.
  await page.getByText("Video: ready").waitFor({ timeout: 120_000 });
  await screenshot(page, "teacher-video-ready");
  await publish(page);

  const visitor = await newPage(browser); // not signed in: free previews are open
  await visitor.goto(`/course/?id=${new URL(page.url()).searchParams.get("id")}`);
  await visitor.getByRole("link", { name: "Welcome clip" }).click();
  const video = visitor.getByLabel("Video: Welcome clip");
  await video.waitFor();
  const played = await play(video, 0.5);
  assert.equal(played.error, null);
  assert.ok(played.duration > 3 && played.duration < 5, `duration ${played.duration}`);
  assert.ok(played.time > 0.3, `playback did not advance: ${JSON.stringify(played)}`);
  await screenshot(visitor, "video-player");

  // Enrolled, the position is saved as the student watches (here: on pause).
  const student = await newPage(browser);
  await register(student, { name: "Vera Viewer", email: `${unique("vera")}@example.com`, role: "student" });
  const courseId = new URL(page.url()).searchParams.get("id");
  await student.goto(`/course/?id=${courseId}`);
  await student.getByRole("button", { name: "Enroll for free" }).click();
  const watched = student.getByLabel("Video: Welcome clip");
  await watched.waitFor();
  await play(watched, 1.5, { pause: true });
  let position = 0;
  for (let i = 0; i < 20 && position < 1; i += 1) {
    await student.waitForTimeout(250);
    const progress = await apiAs(student, "GET", `/courses/${courseId}/progress`);
    position = progress.lessons[0]?.position_seconds ?? 0;
  }
  assert.ok(position >= 1, `no position saved (${position})`);
  assert.deepEqual([...page.pageErrors, ...visitor.pageErrors, ...student.pageErrors], []);
});

/** Plays a <video> muted until it has played `seconds` (each wait bounded at 30 s, so a
 *  player that never loads fails the assertions instead of hanging), then pauses it if
 *  asked; answers what the element reports. */
async function play(video, seconds, { pause = false } = {}) {
  return video.evaluate(async (el, { seconds, pause }) => {
    const within = (limit, promise) => Promise.race([promise, new Promise((r) => setTimeout(r, limit))]);
    el.muted = true;
    await within(30_000, new Promise((resolve) => {
      if (el.readyState >= 1) resolve();
      else el.addEventListener("loadedmetadata", resolve, { once: true });
    }));
    await within(30_000, el.play().catch(() => {}));
    await within(30_000, new Promise((resolve) => {
      const check = () => (el.currentTime >= seconds ? resolve() : setTimeout(check, 100));
      check();
    }));
    if (pause) el.pause();
    return { duration: el.duration, time: el.currentTime, state: el.readyState, error: el.error?.message ?? null };
  }, { seconds, pause });
}

/** The API directly, as the signed-in user of `page` (for setting up data in bulk). */
async function apiAs(page, method, url, body) {
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("edu.session")).access);
  let resp;
  for (let attempt = 0; attempt < 3; attempt += 1) { // a per-user write limit may ask to wait
    resp = await page.request.fetch(url, {
      method, data: body, headers: { authorization: `Bearer ${token}` },
    });
    if (resp.status() !== 429) break;
    await page.waitForTimeout(1000 * Number(resp.headers()["retry-after"] ?? 5));
  }
  assert.ok(resp.ok(), `${method} ${url}: ${resp.status()} ${await resp.text()}`);
  return resp.json();
}

test("the catalog loads the next page as the list scrolls", { timeout: 240_000 }, async () => {
  const page = await newPage(browser);
  // A second teacher when given: 27 courses are 108 writes, near the per-user write limit.
  await login(page, process.env.EDU_WEB_TEACHER2_EMAIL ?? TEACHER_EMAIL, TEACHER_PASSWORD);
  const word = unique("Scrollwort").replace(/-/g, "");
  for (let i = 0; i < 27; i += 1) { // more than one page (24)
    const course = await apiAs(page, "POST", "/courses", {
      title: `${word} volume ${i + 1}`, category: "art", level: "beginner", language: "en",
      price: { amount: 0, currency: "usd" },
    });
    const section = await apiAs(page, "POST", `/courses/${course.id}/sections`, { title: "Part one" });
    await apiAs(page, "POST", `/courses/${course.id}/sections/${section.id}/lessons`, { title: "Lesson one", kind: "text" });
    await apiAs(page, "POST", `/courses/${course.id}/publish`);
  }
  // Search follows publishing through events: wait until all 27 are searchable.
  for (let i = 0; i < 60; i += 1) {
    const found = await (await page.request.get(`/search?q=${word}&limit=50`)).json();
    if (found.items.length === 27) break;
    await page.waitForTimeout(500);
  }
  const visitor = await newPage(browser);
  const cards = visitor.getByRole("list", { name: "Courses" }).getByRole("link", { name: new RegExp(word) });
  // Next-page requests are recorded from the start: when the end of the first page is already
  // near the viewport as it renders (cards still without their final height), the sentinel
  // asks for the next page at once, before any scroll; a listener added only before
  // scrolling missed that request and the journey failed with "never asked".
  const nextPages = [];
  visitor.on("response", (r) => {
    if (r.url().includes("/search?") && r.url().includes("cursor=")) nextPages.push(r);
  });
  for (let attempt = 0; attempt < 20 && (await cards.count()) < 24; attempt += 1) {
    nextPages.length = 0;
    await visitor.goto("/");
    const box = visitor.getByRole("combobox", { name: "Search courses" });
    await box.fill(word);
    // The newest-first catalog shown before the search can hold 24 of these courses too: wait
    // for the search's own answer to be on screen, or the scroll below may scroll a list that
    // the search then replaces (and the sentinel never shows).
    const answered = visitor.waitForResponse((r) => r.url().includes("/search?") && r.url().includes("limit=24"));
    await box.press("Enter");
    await answered;
    await visitor.getByRole("status").filter({ hasText: "Loading courses" }).waitFor({ state: "hidden" });
    if ((await cards.count()) < 24) await visitor.waitForTimeout(1000);
  }
  assert.ok((await cards.count()) >= 24, "the first page (24 cards) never showed");
  // Scrolling to the end asks for the next page (no click), as a reader would scroll: up to
  // three times. A failure says which part broke: no request, or a refused one.
  for (let scroll = 0; scroll < 3 && nextPages.length === 0; scroll += 1) {
    await cards.nth(23).scrollIntoViewIfNeeded();
    await visitor.mouse.wheel(0, 5000);
    for (let wait = 0; wait < 10 && nextPages.length === 0; wait += 1) await visitor.waitForTimeout(500);
    if (nextPages.length === 0) await visitor.mouse.wheel(0, -5000);
  }
  assert.ok(nextPages.length > 0, "scrolling to the end never asked for the next page");
  const nextPage = nextPages[0];
  assert.equal(nextPage.status(), 200, `the next page: ${nextPage.status()} ${await nextPage.text()}`);
  await cards.nth(26).waitFor(); // the next page arrived without a click
  assert.equal(await cards.count(), 27);
  assert.deepEqual(visitor.pageErrors, []);
});

test("an unverified teacher is shown how to get verified", async () => {
  const page = await newPage(browser);
  const name = "Nina Newteacher";
  await register(page, { name, email: `${unique("nina")}@example.com`, role: "teacher" });
  await page.getByRole("heading", { name: "Get verified to teach" }).waitFor();
  await page.getByLabel(/About you/).fill("I have taught pottery at the community college for ten years.");
  await page.getByLabel("Link to your work").fill("https://example.com/nina");
  await page.getByRole("button", { name: "Ask for verification" }).click();
  await page.getByText("Your verification request is being reviewed").waitFor();
  assert.equal(await page.getByRole("heading", { name: "New course" }).count(), 0);
  await screenshot(page, "teacher-verification");
  assert.deepEqual(page.pageErrors, []);
});

async function searchFor(page, words, expectTitle) {
  // The catalog's search read model follows publishing through events: retry briefly.
  for (let attempt = 0; attempt < 20; attempt += 1) {
    await page.goto("/");
    const box = page.getByRole("combobox", { name: "Search courses" });
    await box.fill(words);
    await box.press("Enter");
    const hit = page.getByRole("link", { name: expectTitle });
    try {
      await hit.waitFor({ timeout: 1500 });
      return hit;
    } catch {
      await page.waitForTimeout(500);
    }
  }
  throw new Error(`search for ${words} never showed ${expectTitle}`);
}

test("the refresh token stays out of page scripts' reach and still renews the session", async () => {
  const page = await newPage(browser);
  await register(page, { name: "Cora Cookie", email: `${unique("cora")}@example.com`, role: "student" });
  const stored = await page.evaluate(() => window.localStorage.getItem("edu.session"));
  assert.ok(stored && !stored.includes("refresh"), `localStorage holds ${stored}`);
  assert.ok(!(await page.evaluate(() => document.cookie)).includes("edu_refresh"));
  // An access token about to expire is renewed through the HttpOnly cookie.
  const before = await expireAccessToken(page);
  await page.goto("/");
  await page.getByRole("button", { name: "Log out" }).waitFor();
  await page.waitForFunction((old) => JSON.parse(window.localStorage.getItem("edu.session") ?? "{}").access !== old, before);
  await page.close();
});

test("a renewal whose answer never arrives keeps the session", async () => {
  const page = await newPage(browser);
  await register(page, { name: "Lena Lost", email: `${unique("lena")}@example.com`, role: "student" });
  await page.waitForURL((url) => url.pathname === "/"); // the sign-up's own navigation is done
  const context = page.context();
  const cookie = (await context.cookies()).filter((c) => c.name === "edu_refresh");
  assert.equal(cookie.length, 1);
  // The server spends the refresh token, but its answer (and new cookie) is lost, as when a
  // page navigates away mid-request.
  await page.route("**/auth/refresh", async (route) => {
    await route.fetch();
    await context.addCookies(cookie);
    await route.abort("connectionreset");
  }, { times: 1 });
  const before = await expireAccessToken(page);
  await page.goto("/");
  await page.getByRole("button", { name: "Log out" }).waitFor();
  // The next renewal presents the spent token again: it renews, the sign-in is not ended.
  await page.reload();
  await page.getByRole("button", { name: "Log out" }).waitFor();
  await page.waitForFunction((old) => JSON.parse(window.localStorage.getItem("edu.session") ?? "{}").access !== old, before);
  assert.notDeepEqual((await context.cookies()).find((c) => c.name === "edu_refresh")?.value, cookie[0].value);
  await page.close();
});

/** Marks the stored access token as expiring now (the next API call renews it first);
 *  returns the token. */
async function expireAccessToken(page) {
  return page.evaluate(() => {
    const session = JSON.parse(window.localStorage.getItem("edu.session"));
    window.localStorage.setItem("edu.session", JSON.stringify({ ...session, expiresAt: 0 }));
    return session.access;
  });
}

test("pages run only their own scripts and cannot be framed", async () => {
  const page = await newPage(browser);
  const response = await page.goto("/");
  const policy = response.headers()["content-security-policy"];
  assert.match(policy, /script-src 'self' 'sha256-/);
  assert.doesNotMatch(policy.split(";").find((d) => d.includes("script-src")), /unsafe-inline/);
  assert.match(policy, /frame-ancestors 'none'/);
  await page.getByRole("heading").first().waitFor(); // the page's own inline scripts ran
  await assert.rejects(page.addScriptTag({ content: "window.injected = 1" }));
  assert.equal(await page.evaluate(() => window.injected), undefined);
  await page.close();
});

test("signing in never sends the browser to another site", async () => {
  const page = await newPage(browser);
  const email = `${unique("rex")}@example.com`;
  await register(page, { name: "Rex Redirect", email, role: "student" });
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("link", { name: "Log in" }).waitFor();
  const origin = new URL(page.url()).origin;
  for (const next of ["/%5Cevil.example/pwn", "/%09/evil.example/pwn", "//evil.example/x",
                      "https://evil.example/", "/\\evil.example/"]) {
    await page.goto(`/login/?next=${next}`); // as a link in a phishing mail would carry it
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => !url.pathname.startsWith("/login"));
    assert.equal(new URL(page.url()).origin, origin, `next=${next} left the site`);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("link", { name: "Log in" }).waitFor();
  }
  await page.close();
});

test("a student registers, logs in, searches, enrolls for free and saves progress", async () => {
  const page = await newPage(browser);
  const email = `${unique("sam")}@example.com`;
  await register(page, { name: "Sam Student", email, role: "student" });
  await screenshot(page, "catalog");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("link", { name: "Log in" }).waitFor();
  await login(page, email);

  const hit = await searchFor(page, `${topic} gardening`, freeTitle);
  await screenshot(page, "search-results");
  assert.ok(await hit.isVisible());
  // Suggestions appear while typing (debounced) and work from the keyboard.
  const box = page.getByRole("combobox", { name: "Search courses" });
  await box.fill("");
  await box.pressSequentially(`${topic} gardening`, { delay: 10 });
  await page.getByRole("option", { name: freeTitle }).waitFor();
  await box.press("ArrowDown");
  assert.equal(await box.getAttribute("aria-activedescendant"), "suggestion-0");
  await box.press("Enter"); // opens the highlighted suggestion
  await page.getByRole("heading", { name: freeTitle }).waitFor();
  await page.getByText("Free preview").first().waitFor();
  await screenshot(page, "course-page");
  assert.deepEqual(await accessibilityProblems(page), []);
  await page.getByRole("button", { name: "Enroll for free" }).click();

  await page.getByRole("progressbar", { name: "Course progress" }).waitFor();
  await page.getByRole("button", { name: "Mark complete" }).click();
  await page.getByText("1 of 3 lessons done").waitFor();
  await screenshot(page, "learning-view");
  assert.deepEqual(await accessibilityProblems(page), []);
  await page.reload(); // saved on the server, not only on the page
  await page.getByText("1 of 3 lessons done").waitFor();
  await page.goto("/my/");
  await page.getByRole("link", { name: freeTitle }).waitFor();

  // An access token the API no longer accepts is refreshed transparently.
  await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem("edu.session"));
    localStorage.setItem("edu.session", JSON.stringify({ ...session, access: "expired.or.revoked" }));
  });
  await page.reload();
  await page.getByRole("link", { name: freeTitle }).waitFor();
  const renewed = await page.evaluate(() => JSON.parse(localStorage.getItem("edu.session")).access);
  assert.notEqual(renewed, "expired.or.revoked");
  assert.deepEqual(page.pageErrors, []);
});

test("a student buys a paid course with the Stripe test card", async () => {
  const page = await newPage(browser);
  await register(page, { name: "Paula Payer", email: `${unique("paula")}@example.com`, role: "student" });
  const hit = await searchFor(page, `${topic} pruning`, paidTitle);
  await hit.click();
  await page.getByRole("button", { name: "Buy for $19.99" }).click();
  const payment = page.getByRole("form", { name: "Payment" });
  await payment.getByLabel("Card number").fill("4000 0000 0000 0002");
  await payment.getByRole("button", { name: "Pay $19.99" }).click();
  await payment.getByRole("alert").waitFor(); // declined: stays on the form, says why
  await screenshot(page, "checkout-declined");
  await payment.getByLabel("Card number").fill("4242 4242 4242 4242");
  await payment.getByRole("button", { name: "Pay $19.99" }).click();
  await page.getByRole("progressbar", { name: "Course progress" }).waitFor({ timeout: 45_000 });
  await page.getByText("0 of 2 lessons done").waitFor();
  await screenshot(page, "paid-enrolled");
  assert.deepEqual(page.pageErrors, []);
});

test("the teacher dashboard shows the new enrollments", async () => {
  const page = await newPage(browser);
  await login(page, TEACHER_EMAIL, TEACHER_PASSWORD);
  await page.goto("/teach/dashboard/");
  await page.getByRole("heading", { name: "Course analytics" }).waitFor();
  await page.getByLabel("Course", { exact: true }).selectOption({ label: freeTitle });
  // Analytics are projected from events: wait for the student's enrollment to arrive.
  const row = page.getByRole("table", { name: "Lesson drop-off" }).getByRole("row").filter({ hasText: "Soil" });
  await row.waitFor();
  const enrollments = page.getByRole("img", { name: /^Enrollments: 1 over/ });
  for (let i = 0; i < 30 && (await enrollments.count()) === 0; i += 1) {
    await page.waitForTimeout(1000);
    await page.getByLabel("Period", { exact: true }).selectOption("week");
    await page.getByLabel("Period", { exact: true }).selectOption("day");
  }
  await enrollments.waitFor();
  await screenshot(page, "teacher-dashboard");
  assert.deepEqual(await accessibilityProblems(page), []);
  assert.deepEqual(page.pageErrors, []);
});
