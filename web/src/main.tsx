import { render } from "preact";
import { useMemo, useState } from "preact/hooks";
import { Api } from "./api";
import { Dashboard } from "./components/Dashboard";
import { Login } from "./components/Login";
import { loadConfig, type Config } from "./config";
import "./styles.css";

function App({ config }: { config: Config }) {
  const api = useMemo(() => new Api(config.apiUrl), [config]);
  const [signedIn, setSignedIn] = useState(() => api.user !== null);
  api.onSignedOut = () => setSignedIn(false);
  if (!signedIn) return <Login api={api} onSignedIn={() => setSignedIn(true)} />;
  return (
    <Dashboard
      api={api}
      wsUrl={config.wsUrl}
      onSignOut={() => {
        void api.logout();
        setSignedIn(false);
      }}
    />
  );
}

const root = document.getElementById("app")!;
loadConfig().then(
  (config) => render(<App config={config} />, root),
  (error: Error) => {
    root.innerHTML = "";
    const p = document.createElement("p");
    p.className = "error banner";
    p.textContent = `Cannot start: ${error.message}`;
    root.append(p);
  },
);
