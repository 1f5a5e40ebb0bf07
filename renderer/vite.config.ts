// Builds the Svelte renderer into renderer/dist/ (`npm run build:renderer`). Relative asset
// paths, so the same build works from `looktwice serve` and from Electron's app:// protocol.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root,
  base: './',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1000,
  },
});
