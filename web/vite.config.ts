// Vite config for the pingan web app: root web/, output web/dist, served by `pingan serve` at /.
// `npm run web:dev` proxies /api (including the SSE stream) to the API server, by default
// http://127.0.0.1:8080; set PINGAN_API to point elsewhere (PINGAN_API=http://127.0.0.1:8091).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.PINGAN_API || 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        // ECharts in its own chunk: the app's code changes more often than the library.
        manualChunks: (id: string) =>
          id.includes('node_modules/echarts') || id.includes('node_modules/zrender') ? 'echarts' : undefined,
      },
    },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: api, changeOrigin: false },
    },
  },
  preview: {
    host: '127.0.0.1',
    proxy: { '/api': { target: api } },
  },
});
