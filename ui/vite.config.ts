import { defineConfig } from "vite";

// Relative asset paths: the built `dist/` works from any host and any sub-path.
export default defineConfig({
  base: "./",
  build: { target: "es2022", chunkSizeWarningLimit: 2000 },
  server: { port: 5173, strictPort: true },
  preview: { port: 5173, strictPort: true },
});
