/**
 * Build of the simulator's own pages (the tester's bench, the control-panel placeholder and the
 * mailbox). `npx vite build --config device-sim/vite.config.ts` → device-sim/dist:
 *   dist/control/page/index.html, dist/panel/page/index.html, dist/mailbox/page/index.html,
 *   dist/assets/*
 * The control server maps /control/, /panel/ and /mailbox/ to those files and /assets/* to
 * dist/assets (absolute base '/', so the pages load their scripts whatever the page URL looks like).
 * `npx vite --config device-sim/vite.config.ts` serves the sources (open /control/page/,
 * /panel/page/ and /mailbox/page/) and forwards /sim and /panel/api to a running simulator (SIM_URL, default
 * http://127.0.0.1:8081).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const simulator = process.env['SIM_URL'] ?? 'http://127.0.0.1:8081';

export default defineConfig({
  root,
  base: '/',
  server: {
    proxy: { '/sim': simulator, '/panel/api': simulator },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        control: fileURLToPath(new URL('control/page/index.html', import.meta.url)),
        panel: fileURLToPath(new URL('panel/page/index.html', import.meta.url)),
        mailbox: fileURLToPath(new URL('mailbox/page/index.html', import.meta.url)),
      },
    },
  },
});
