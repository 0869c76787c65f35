/**
 * Builds the dashboard into `dashboard/dist` (`npm run dashboard:build`). `base: './'` makes every
 * asset URL relative, so the same build works at `/` in local mode and under any CloudFront path.
 */
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One small CSS file and one JS file; no inlined data: scripts so the page's CSP can stay strict.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    // `vite --config dashboard/vite.config.ts` for UI work: the API from a running `npm start`.
    proxy: { '/v1': process.env.REKEY_API_URL ?? 'http://127.0.0.1:3000' },
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
  },
});
