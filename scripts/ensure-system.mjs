#!/usr/bin/env node
// Makes sure the Debian packages the tests use are present: chromium (and CJK fonts, or the
// informant renders as boxes) for the browser e2e test, redis-server for the multi-server tests.
// Playwright's own browser download cannot work on these machines.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const ci = process.env.CI === 'true' || process.env.CI === '1'
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
const hasFonts = spawnSync('sh', ['-c', 'fc-list :lang=zh | grep -q .'], { stdio: 'ignore' }).status === 0
const hasRedis = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((p) => existsSync(p))

if (chromium && hasFonts && hasRedis) process.exit(0)

const missing = [!chromium && 'chromium', !hasFonts && 'fonts-noto-cjk', !hasRedis && 'redis-server'].filter(Boolean)
const isRoot = process.getuid?.() === 0
const hasApt = existsSync('/usr/bin/apt-get')
if (isRoot && hasApt) {
  process.stdout.write(`[parley] installing ${missing.join(', ')} for the tests (apt-get)…\n`)
  try {
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' })
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    process.exit(0)
  } catch {
    process.stderr.write('[parley] apt-get could not install them.\n')
  }
}
const fix = `sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`
if (ci) {
  process.stderr.write(`[parley] the browser and Redis tests cannot run: ${missing.join(', ')} missing. Fix: ${fix}\n`)
  process.exit(1)
}
process.stderr.write(`[parley] warning: ${missing.join(', ')} missing, so the browser or Redis tests will be skipped here (CI fails instead). Fix: ${fix}\n`)
