import { useState } from "preact/hooks";
import { ApiError, type Api } from "../api";

export function Login({ api, onSignedIn }: { api: Api; onSignedIn: () => void }) {
  const [mode, setMode] = useState<"login" | "register">("login");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    performance.mark("login-submit");
    setBusy(true);
    setError(null);
    try {
      if (mode === "login") await api.login(email, password);
      else await api.register(name, email, password);
      onSignedIn();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "The API is unreachable: is the stack running?");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <form class="card" onSubmit={submit} aria-label={mode === "login" ? "Sign in" : "Create an account"}>
        <h1>
          Delta<span>Stream</span>
        </h1>
        <p class="muted">Live options analytics</p>
        {mode === "register" && (
          <label>
            Name
            <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required autoComplete="name" />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required autoComplete="username" />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
            minLength={mode === "register" ? 10 : 1}
            autoComplete={mode === "login" ? "current-password" : "new-password"}
          />
        </label>
        {mode === "register" && <p class="hint">10+ characters, with a letter and a digit.</p>}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "…" : mode === "login" ? "Sign in" : "Create account"}
        </button>
        <button type="button" class="link" onClick={() => setMode(mode === "login" ? "register" : "login")}>
          {mode === "login" ? "New here? Create an account" : "Have an account? Sign in"}
        </button>
      </form>
    </main>
  );
}
