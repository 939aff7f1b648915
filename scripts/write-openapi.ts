/** Writes packages/engine/openapi.json from the routes' schemas (`pnpm openapi`); test/openapi.test.ts keeps it in sync. */
import { writeFileSync } from 'node:fs'
import { openApiDocument } from '@parley/engine/http'

writeFileSync(new URL('../packages/engine/openapi.json', import.meta.url), JSON.stringify(openApiDocument('/api'), null, 2) + '\n')
