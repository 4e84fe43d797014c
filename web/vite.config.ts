import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { firstLoadBudget } from './build/first-load-budget.ts';

const api = process.env.API_ORIGIN ?? 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [react(), firstLoadBudget(300 * 1024)],
  build: { target: 'es2022' },
  // `npm run dev:web`: the app with hot reload, the API from a running server (`npm start`).
  server: {
    proxy: {
      '/graphql': { target: api, changeOrigin: false },
    },
  },
});
