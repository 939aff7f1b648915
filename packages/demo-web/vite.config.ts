import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  root: 'page',
  // The workspace packages (@parley/client) are used from source, as everywhere else in the repo.
  resolve: { conditions: ['@parley/source', ...defaultClientConditions] },
  build: { outDir: '../dist', emptyOutDir: true, target: 'es2022' },
  server: { proxy: { '/api': 'http://127.0.0.1:8787', '/demo': 'http://127.0.0.1:8787' } },
})
