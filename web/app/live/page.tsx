"use client";
// A live session's room: chat, questions (upvotes; the teacher marks them answered), raised
// hands, who is here; the teacher starts and ends the session. One WebSocket to the
// classroom API, opened with the access token; everything the room hears arrives on it.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, loadSession, type User } from "@/lib/api";
import { useAuth } from "@/lib/auth";
import { useSearchParam } from "@/lib/hooks";
import { ErrorBox, Loading } from "@/components/ui";

type Person = { user_id: string; name: string; role: string };
type Chat = { id: string; name: string; role: string; text: string; at: string };
type Question = { id: string; user_id: string; name: string; text: string; votes: number; answered: boolean };
type Incoming = { type: string; [key: string]: unknown };

export default function LivePage() {
  const session = useSearchParam("session");
  const { user, ready } = useAuth();
  const socket = useRef<WebSocket | null>(null);
  const [state, setState] = useState<"connecting" | "open" | "closed">("connecting");
  const [people, setPeople] = useState<Person[]>([]);
  const [chat, setChat] = useState<Chat[]>([]);
  const [questions, setQuestions] = useState<Question[]>([]);
  const [hands, setHands] = useState<Person[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const send = useCallback((action: string, fields: Record<string, unknown> = {}) => {
    socket.current?.send(JSON.stringify({ action, ...fields }));
  }, []);

  const receive = useCallback((message: Incoming) => {
    if (message.type === "presence") setPeople(message.people as Person[]);
    else if (message.type === "history") setChat(message.messages as Chat[]);
    else if (message.type === "chat") setChat((c) => [...c, message as unknown as Chat].slice(-200));
    else if (message.type === "questions") setQuestions(message.questions as Question[]);
    else if (message.type === "question") {
      const q = message as unknown as Question;
      setQuestions((qs) => [...qs.filter((x) => x.id !== q.id), q]);
    } else if (message.type === "hands" || message.type === "hand") setHands(message.hands as Person[]);
    else if (message.type === "session" || message.type === "moved") setStatus(String(message.status));
    else if (message.type === "error") setProblem(String(message.detail));
  }, []);

  useEffect(() => {
    if (!session || !ready || !user) return;
    let closed = false;
    (async () => {
      await api<User>("/me"); // renews the access token first when it is about to expire
      const config = (await (await fetch("/site-config.json")).json()) as { websocket?: string };
      const token = loadSession()?.access;
      if (!config.websocket || !token || closed) return;
      const url = `${config.websocket}?token=${encodeURIComponent(token)}&session=${encodeURIComponent(session)}`;
      const ws = new WebSocket(url);
      socket.current = ws;
      ws.onopen = () => {
        setState("open");
        for (const action of ["presence", "history", "questions"]) ws.send(JSON.stringify({ action }));
      };
      ws.onmessage = (event) => receive(JSON.parse(String(event.data)) as Incoming);
      // API Gateway closes a connection idle for 10 minutes: a listener asks who is here
      // every 4, which also keeps its presence.
      const keepAlive = setInterval(() => ws.send(JSON.stringify({ action: "presence" })), 240_000);
      ws.onclose = () => {
        clearInterval(keepAlive);
        setState("closed");
      };
    })().catch(() => setState("closed"));
    return () => {
      closed = true;
      socket.current?.close();
    };
  }, [session, ready, user, receive]);

  if (!session) return <ErrorBox error={new Error("No live session was given.")} />;
  if (ready && !user) return <ErrorBox error={new Error("Log in to join the live session.")} />;
  if (state === "connecting") return <Loading what="Joining the live session" />;
  if (state === "closed") {
    return <ErrorBox error={new Error("You are not in the room: the session is not open, or you are not enrolled.")} />;
  }
  const teacher = people.some((p) => p.user_id === user?.id && p.role === "teacher");
  const myHand = hands.some((h) => h.user_id === user?.id);
  const sorted = [...questions].sort((a, b) => Number(a.answered) - Number(b.answered) || b.votes - a.votes);

  return (
    <div className="grid gap-6 lg:grid-cols-3">
      <section className="lg:col-span-2" aria-label="Chat">
        <h1 className="mb-2">Live session</h1>
        {status && <p role="status">The session is {status}.</p>}
        {problem && <p role="alert" className="text-sm text-red-700">{problem}</p>}
        <ol className="card mb-3 h-64 space-y-1 overflow-y-auto text-sm" aria-label="Messages">
          {chat.map((m) => (
            <li key={m.id}><strong>{m.name}</strong>{m.role === "teacher" ? " (teacher)" : ""}: {m.text}</li>
          ))}
        </ol>
        <SendBox label="Message" button="Send" maxLength={2000} onSend={(text) => send("chat", { text })} />
        <h2 className="mb-2 mt-6">Questions</h2>
        <ol className="space-y-2 text-sm" aria-label="Questions">
          {sorted.map((q) => (
            <li key={q.id} className="card">
              <span>{q.text}</span> <span className="text-slate-600">— {q.name}, {q.votes} votes{q.answered ? ", answered" : ""}</span>{" "}
              {!q.answered && q.user_id !== user?.id && !teacher && (
                <button type="button" className="btn-secondary" onClick={() => send("upvote", { question_id: q.id })}>Upvote</button>
              )}
              {!q.answered && teacher && (
                <button type="button" className="btn-secondary" onClick={() => send("answer", { question_id: q.id })}>Mark answered</button>
              )}
            </li>
          ))}
        </ol>
        {!teacher && (
          <SendBox label="Question" button="Ask" maxLength={500} onSend={(text) => send("ask", { text })} />
        )}
      </section>
      <aside className="card h-fit" aria-label="In the room">
        <h2 className="mb-2">Here now: {people.length}</h2>
        <ul className="mb-3 text-sm">
          {people.map((p) => <li key={p.user_id}>{p.name}{p.role === "teacher" ? " (teacher)" : ""}</li>)}
        </ul>
        <h3 className="font-semibold">Raised hands</h3>
        <ul className="mb-3 text-sm">{hands.map((h) => <li key={h.user_id}>{h.name}</li>)}</ul>
        {teacher ? (
          <div className="flex gap-2">
            <button type="button" className="btn" onClick={() => send("start")}>Go live</button>
            <button type="button" className="btn-secondary" onClick={() => send("end")}>End the session</button>
          </div>
        ) : (
          <button type="button" className="btn" onClick={() => send("hand", { raised: !myHand })}>
            {myHand ? "Lower your hand" : "Raise your hand"}
          </button>
        )}
      </aside>
    </div>
  );
}

/** A one-line text box and its button; sends the trimmed text and clears the box. */
function SendBox({ label, button, maxLength, onSend }: {
  label: string; button: string; maxLength: number; onSend: (text: string) => void;
}) {
  const id = label.toLowerCase();
  return (
    <form className="mt-2 flex gap-2" onSubmit={(e) => {
      e.preventDefault();
      const box = e.currentTarget.elements.namedItem(id) as HTMLInputElement;
      if (box.value.trim()) onSend(box.value);
      box.value = "";
    }}>
      <label htmlFor={id} className="sr-only">{label}</label>
      <input id={id} name={id} className="input flex-1" maxLength={maxLength} autoComplete="off" />
      <button type="submit" className="btn">{button}</button>
    </form>
  );
}
