import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', process.env.CHROMIUM_PATH].find((p): p is string => !!p && existsSync(p))
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1'

/**
 * Debian's chromium, headless, with the flags this closed network needs (background networking
 * off, or Chromium floods refused connections).
 */
export function launchChromium(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('chromium not found: run `apt-get install -y chromium fonts-noto-cjk` (or `node scripts/ensure-browser.mjs`)')
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  })
}
