/**
 * Build of the Remote UI: the single-page app the firmware serves from its flash image.
 * `npx vite build --config remote-ui/vite.config.ts` → remote-ui/dist (index.html + assets/).
 * The firmware answers `/assets/*` from dist and every extension-less path with index.html.
 * `npx vite --config remote-ui/vite.config.ts` serves the sources and forwards /api to a running
 * device (RUI_DEVICE_URL, default http://127.0.0.1:8080); the Host header is kept, so the
 * device's same-origin check passes.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  server: {
    proxy: { '/api': process.env['RUI_DEVICE_URL'] ?? 'http://127.0.0.1:8080' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle; the preload polyfill is dead weight in the browsers an admin uses.
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
});
