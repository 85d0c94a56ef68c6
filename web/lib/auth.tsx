"use client";
// Who is signed in, shared by every page; follows the session across tabs.
import { createContext, useCallback, useContext, useEffect, useState } from "react";
import { api, loadSession, saveSession, SESSION_EVENT, type TokenPair, type User } from "./api";

type Auth = {
  user: User | null;
  ready: boolean; // false until the first /me answer (or no session)
  login: (email: string, password: string) => Promise<User>;
  logout: () => Promise<void>;
  reload: () => Promise<void>;
};

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: React.ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [ready, setReady] = useState(false);

  const reload = useCallback(async () => {
    if (!loadSession()) {
      setUser(null);
      setReady(true);
      return;
    }
    try {
      setUser(await api<User>("/me"));
    } catch {
      setUser(null);
    } finally {
      setReady(true);
    }
  }, []);

  useEffect(() => {
    void reload();
    const onChange = () => void reload();
    window.addEventListener(SESSION_EVENT, onChange);
    window.addEventListener("storage", onChange);
    return () => {
      window.removeEventListener(SESSION_EVENT, onChange);
      window.removeEventListener("storage", onChange);
    };
  }, [reload]);

  const login = useCallback(async (email: string, password: string) => {
    const pair = await api<TokenPair>("/auth/login", {
      method: "POST", body: { email, password },
    });
    saveSession(pair);
    const me = await api<User>("/me");
    setUser(me);
    return me;
  }, []);

  const logout = useCallback(async () => {
    try {
      await api<void>("/auth/logout", { method: "POST", body: {} }); // the cookie names the session
    } catch {
      // the session ends locally whatever the server says
    }
    saveSession(null);
    setUser(null);
  }, []);

  return (
    <AuthContext.Provider value={{ user, ready, login, logout, reload }}>
      {children}
    </AuthContext.Provider>
  );
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
