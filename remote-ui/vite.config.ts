/**
 * Build of the Remote UI: the single-page app the firmware serves from its flash image.
 * `npx vite build --config remote-ui/vite.config.ts` → remote-ui/dist (index.html + assets/).
 * The firmware answers `/assets/*` from dist and every extension-less path with index.html.
 * `npx vite --config remote-ui/vite.config.ts` serves the sources and forwards /api to a running
 * device (RUI_DEVICE_URL, default http://127.0.0.1:8080); the Host header is kept, so the
 * device's same-origin check passes.
 *
 * The bundle lives in the device's flash and is held under 40 kB gzipped (test/bench/run.ts):
 * the build trims the white space of Lit's literals (trim-lit-literals.ts) and leaves out
 * firmware modules the UI does not use.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { trimLitLiterals } from './trim-lit-literals.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [trimLitLiterals()],
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
    rolldownOptions: {
      // The firmware modules the UI imports (API types and schemas, settings schemas, the menu)
      // do nothing when imported: one whose exports the UI does not use, such as a schema
      // api-types.ts re-exports for the panel, is left out instead of evaluated for nothing.
      treeshake: { moduleSideEffects: (id) => !id.includes('/firmware/') },
    },
  },
});
