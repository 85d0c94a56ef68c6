// The live classroom in two browsers: the course's teacher and an enrolled student meet in a
// live session's room, see each other, chat, and the teacher answers the student's question.
// EDU_WEB_LIVE names the session and both accounts (the pytest wrapper makes them).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launch, login, newPage, screenshot } from "./browser.mjs";

const LIVE = process.env.EDU_WEB_LIVE ? JSON.parse(process.env.EDU_WEB_LIVE) : null;
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("a teacher and a student meet in a live session's room", { skip: LIVE ? false : "EDU_WEB_LIVE is not set" }, async () => {
  const room = `/live/?session=${encodeURIComponent(LIVE.session)}&course=${encodeURIComponent(LIVE.course)}`;
  const teacher = await newPage(browser);
  await login(teacher, LIVE.teacher, LIVE.password);
  await teacher.goto(room);
  await teacher.getByRole("heading", { name: "Here now: 1" }).waitFor();

  const student = await newPage(browser);
  await login(student, LIVE.student, LIVE.password);
  await student.goto("/my/");  // the in-app notice of the scheduled session
  await student.getByRole("region", { name: "Upcoming live sessions" })
    .getByRole("link", { name: "Browser office hours" }).waitFor();
  await student.goto(`/course/?id=${encodeURIComponent(LIVE.course)}`);
  await student.getByRole("link", { name: "Join the room" }).click();
  await student.getByRole("heading", { name: "Here now: 2" }).waitFor();
  await teacher.getByRole("heading", { name: "Here now: 2" }).waitFor();

  await student.getByLabel("Message", { exact: true }).fill("Hello from the back row");
  await student.getByRole("button", { name: "Send" }).click();
  await teacher.getByRole("list", { name: "Messages" }).getByText("Hello from the back row").waitFor();

  await student.getByLabel("Question", { exact: true }).fill("Will the slides be shared?");
  await student.getByRole("button", { name: "Ask" }).click();
  await teacher.getByText("Will the slides be shared?").waitFor();
  await teacher.getByRole("button", { name: "Mark answered" }).click();
  await student.getByText(/0 votes, answered/).waitFor();

  await student.getByRole("button", { name: "Raise your hand" }).click();
  await student.getByRole("button", { name: "Lower your hand" }).waitFor();
  await teacher.getByRole("button", { name: "Go live" }).click();
  await student.getByText("The session is live.").waitFor();
  await screenshot(student, "live-classroom");
  assert.deepEqual([...teacher.pageErrors, ...student.pageErrors], []);
  await teacher.close();
  await student.close();
});
