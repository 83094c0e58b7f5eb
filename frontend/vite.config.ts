/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

// The dashboard is served by the bot's web process on the same origin as the API
// (Django serves dist/index.html with a strict CSP, WhiteNoise serves dist/assets/).
// In `npm run dev` the API and WebSocket are proxied to TRADEBOT_API (default :8000).
const api = process.env.TRADEBOT_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    // No inline scripts or styles anywhere: the CSP allows 'self' only.
    assetsInlineLimit: 0,
    sourcemap: false,
    manifest: true,
    target: "es2022",
  },
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: false },
      "/ws": { target: api.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/setupTests.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
