import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import type { Browser, Page } from 'playwright-core'
import type { Explanation } from '../../packages/engine/src/inspect/explain.ts'
import { explainConversation } from '../../packages/engine/src/inspect/explain.ts'
import type { ExplainView } from '../../packages/demo-web/page/explain-panel.ts'
import { varDescriptions } from '../../packages/engine/src/vars/values.ts'
import { informant, ROOT } from '../helpers/npcs.ts'
import { CHROMIUM, launchChromium } from './browser.ts'

/**
 * The behind-the-scenes panel rendered in Chromium from fixture data alone: the engine's own
 * explanation of the informant (so the panel reads the shape the engine writes), with a running
 * summary and memories added as the engine reports them. The panel module imports nothing, so it
 * is loaded into the page's own markup and stylesheet as it is.
 */
const PAGE = join(ROOT, 'packages/demo-web/page')
const SHOTS = join(ROOT, 'test-output/screenshots/panel')
const NPC = informant()
const TRUST = Object.keys(NPC.vars)[0]!
const DECL = NPC.vars[TRUST]! as { min?: number; max?: number; default: number; owner: string }

/** The engine's explanation of a conversation where the game set the variables to `vars`. */
function explanation(vars: Record<string, number | string>, extra: Partial<Explanation> = {}): Explanation {
  return { ...explainConversation(NPC, { items: {}, flags: [], turns: 3, said: [], unlocked: [], vars }), ...extra }
}

/** The panel reads the engine's explanation as it is: this fails to compile if the shapes part. */
const asPanelView = (e: Explanation): ExplainView => e

const panelScript = () => {
  const source = readFileSync(join(PAGE, 'explain-panel.ts'), 'utf8')
  const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText
  return `${js}\nwindow.renderExplain = renderExplain`
}

describe.skipIf(!CHROMIUM)('the explain panel, rendered from fixture data', () => {
  let browser: Browser
  let page: Page
  beforeAll(async () => {
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 420, height: 1400 } })
    // The page's own markup without its scripts, and its own stylesheet.
    const html = readFileSync(join(PAGE, 'index.html'), 'utf8').replace(/<script[\s\S]*?<\/script>/g, '').replace(/<link rel="stylesheet"[^>]*>/, '')
    await page.setContent(html)
    await page.addStyleTag({ path: join(PAGE, 'style.css') })
    await page.addScriptTag({ type: 'module', content: panelScript() })
    await page.waitForFunction(() => typeof (window as any).renderExplain === 'function')
    mkdirSync(SHOTS, { recursive: true })
  }, 60_000)
  afterAll(() => browser?.close())

  const render = (e: Explanation, flash: string[] = []) => page.evaluate(([e, flash]) => (window as any).renderExplain(e, flash), [asPanelView(e), flash] as const)
  const text = (selector: string) => page.locator(selector).allTextContents()

  it('shows each variable with its value, its bounds, its owner and the description the model is told', async () => {
    const value = DECL.max ?? DECL.default
    await render(explanation({ [TRUST]: value }))
    const row = page.locator(`#bs-vars [data-var="${TRUST}"]`)
    expect(await row.getAttribute('data-value')).toBe(String(value))
    const shown = (await row.textContent())!
    expect(shown).toContain(`${TRUST} = ${value}`)
    expect(shown).toContain(`${DECL.min ?? '-∞'}..${DECL.max ?? '∞'}`)
    expect(shown).toContain(`owner ${DECL.owner}`)
    const told = varDescriptions(NPC, { [TRUST]: value })
    expect(told.length).toBeGreaterThan(0)
    for (const t of told) expect(shown).toContain(t)
    if (DECL.min !== undefined && DECL.max !== undefined) {
      const meter = row.locator('meter')
      expect(await meter.evaluate((m: HTMLMeterElement) => [m.min, m.max, m.value])).toEqual([DECL.min, DECL.max, value])
    }
    // The variables come before the secrets, inside the panel.
    expect(await page.evaluate(() => !!(document.getElementById('bs-vars')!.compareDocumentPosition(document.getElementById('bs-secrets')!) & Node.DOCUMENT_POSITION_FOLLOWING))).toBe(true)
  })

  it('says when no description applies, and marks a change with its size', async () => {
    // Find a value no description covers (the informant's default), and one that has one.
    const quiet = [DECL.default, ...Array.from({ length: 40 }, (_, i) => i - 20)].find((v) => varDescriptions(NPC, { [TRUST]: v }).length === 0 && v >= (DECL.min ?? -Infinity) && v <= (DECL.max ?? Infinity))!
    await render(explanation({ [TRUST]: quiet }))
    const row = page.locator(`#bs-vars [data-var="${TRUST}"]`)
    expect(await row.locator('.told').textContent()).toMatch(/no description applies/)
    const up = Math.min(DECL.max ?? Infinity, quiet + 5)
    await render(explanation({ [TRUST]: up }))
    expect(await row.locator('strong').textContent()).toBe(`${TRUST} = ${up} (+${up - quiet})`)
    expect(await row.getAttribute('class')).toContain('flash')
    await render(explanation({ [TRUST]: up }))
    expect(await row.locator('strong').textContent()).toBe(`${TRUST} = ${up}`)
  })

  it('shows the running summary and the memories when the engine reports them, carried or held back', async () => {
    const boss = NPC.secrets[0]!.id
    await render(
      explanation(
        { [TRUST]: DECL.default },
        {
          summary: { text: '玩家自称阿杰，在找山贼透子，已经付了50金币。', coversTurns: 12 },
          memories: [
            { text: '上次那个叫阿杰的人付钱爽快。', secrets: [], carried: true },
            { text: '我告诉过阿杰BOSS的下落。', secrets: [boss], carried: false },
          ],
        },
      ),
    )
    expect(await text('#bs-recall h4')).toEqual(['running summary · covers 12 turns', 'memories · earlier conversations'])
    expect(await page.locator('#bs-recall .summary').textContent()).toBe('玩家自称阿杰，在找山贼透子，已经付了50金币。')
    const memories = page.locator('#bs-recall [data-memory]')
    expect(await memories.count()).toBe(2)
    expect(await memories.nth(0).getAttribute('data-carried')).toBe('true')
    expect(await memories.nth(0).textContent()).toContain('carried')
    expect(await memories.nth(0).textContent()).toContain('needs no secret')
    expect(await memories.nth(1).getAttribute('data-carried')).toBe('false')
    expect(await memories.nth(1).textContent()).toContain('held back')
    expect(await memories.nth(1).textContent()).toContain(`needs ${boss}`)
    expect(await memories.nth(1).textContent()).toContain('我告诉过阿杰BOSS的下落。')
    await page.locator('#backstage').screenshot({ path: join(SHOTS, 'summary-memories.png') })
  })

  it('shows nothing of them when the engine reports none, and "none yet" for an empty list of memories', async () => {
    await render(explanation({ [TRUST]: DECL.default }))
    expect(await page.locator('#bs-recall').textContent()).toBe('')
    await render(explanation({ [TRUST]: DECL.default }, { memories: [] }))
    expect(await text('#bs-recall h4')).toEqual(['memories · earlier conversations'])
    expect(await page.locator('#bs-recall').textContent()).toContain('none yet')
    expect(await page.locator('#bs-recall .summary').count()).toBe(0)
  })

  it('renders what the model wrote as text, never as markup', async () => {
    const hostile = '<img src=x onerror="window.__owned=1"><b>bold</b>'
    await render(explanation({ [TRUST]: DECL.default }, { summary: { text: hostile, coversTurns: 1 }, memories: [{ text: hostile, secrets: ['<i>x</i>'], carried: true }] }))
    expect(await page.locator('#bs-recall img, #bs-recall b:not(.progress), #bs-recall i').count()).toBe(0)
    expect(await page.locator('#bs-recall .summary').textContent()).toBe(hostile)
    expect(await page.evaluate(() => (window as any).__owned)).toBeUndefined()
  })
})
