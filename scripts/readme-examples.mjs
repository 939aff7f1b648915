// Copies docs/examples/*.ts into README.md, into the ```ts block after each
// `<!-- example: docs/examples/NAME.ts -->` line. test/readme.test.ts fails when they differ.
// Usage: node scripts/readme-examples.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs'

const root = new URL('..', import.meta.url)
const MARKER = /(<!-- example: (\S+) -->\n```ts\n)([\s\S]*?)(```)/g

export function withExamples(readme, read = (path) => readFileSync(new URL(path, root), 'utf8')) {
  return readme.replace(MARKER, (_, head, path, _body, end) => head + read(path).replace(/\n*$/, '\n') + end)
}

if (process.argv[1] && new URL(`file://${process.argv[1]}`).href === import.meta.url) {
  const path = new URL('README.md', root)
  const before = readFileSync(path, 'utf8')
  const after = withExamples(before)
  if (process.argv.includes('--check')) {
    if (after !== before) {
      console.error('README.md is out of date with docs/examples: run node scripts/readme-examples.mjs')
      process.exit(1)
    }
  } else if (after !== before) writeFileSync(path, after)
}
