#!/usr/bin/env node
// The installed `parley` command. It runs the built CLI; in this repository `pnpm parley` runs the source.
import { existsSync } from 'node:fs'

const built = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(built)) {
  process.stderr.write('parley: the engine is not built yet. Run `pnpm build` (or use `pnpm parley …` from the repository).\n')
  process.exit(2)
}
await import(built.href)
