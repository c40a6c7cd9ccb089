// Where the APIs are: /config.json, written at deploy time (infra/deploy_web.py) and served by
// `make run` locally. One build serves every stage.

export interface Config {
  apiUrl: string; // REST API base, no trailing slash: `${apiUrl}/api/...`
  wsUrl: string; // WebSocket API URL: `${wsUrl}?token=...`
}

export async function loadConfig(): Promise<Config> {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as Partial<Config>;
  if (typeof config.apiUrl !== "string" || typeof config.wsUrl !== "string") {
    throw new Error("config.json must name apiUrl and wsUrl");
  }
  return { apiUrl: config.apiUrl.replace(/\/+$/, ""), wsUrl: config.wsUrl };
}
