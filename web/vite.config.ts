import { defineConfig } from "vite";

// The dashboard is one static page: `npm run build` writes web/dist (hashed assets under assets/).
// The REST and WebSocket endpoints come from /config.json at run time (written at deploy time;
// served by `make run` locally), so one build serves every stage.
export default defineConfig({
  base: "./",
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: { port: 5173, strictPort: true },
});
