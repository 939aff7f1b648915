import { describe, expect, it } from 'vitest'
import { evaluate, describeCondition, saidKey } from './evaluate.ts'
import type { Condition, GameState } from './types.ts'

const state = (over: Partial<GameState> = {}): GameState => ({ items: {}, flags: [], turns: 0, ...over })

describe('evaluate', () => {
  it('given: an item id means at least one; a count means at least that many', () => {
    expect(evaluate({ given: 'red_gem' }, state())).toBe(false)
    expect(evaluate({ given: 'red_gem' }, state({ items: { red_gem: 1 } }))).toBe(true)
    expect(evaluate({ given: { item: 'gold', count: 50 } }, state({ items: { gold: 49 } }))).toBe(false)
    expect(evaluate({ given: { item: 'gold', count: 50 } }, state({ items: { gold: 50 } }))).toBe(true)
  })

  it('flag and turns', () => {
    expect(evaluate({ flag: 'met_boss' }, state({ flags: ['met_boss'] }))).toBe(true)
    expect(evaluate({ flag: 'met_boss' }, state({ flags: new Set(['other']) }))).toBe(false)
    expect(evaluate({ turns: { gte: 3 } }, state({ turns: 2 }))).toBe(false)
    expect(evaluate({ turns: { gte: 3, lte: 5 } }, state({ turns: 4 }))).toBe(true)
    expect(evaluate({ turns: { lte: 5 } }, state({ turns: 6 }))).toBe(false)
  })

  it('said: the player\'s current line, or a pattern remembered from an earlier line', () => {
    const said: Condition = { said: { matches: '芝麻开门|open sesame' } }
    expect(evaluate(said, state({ currentLine: 'Open Sesame!' }))).toBe(true)
    expect(evaluate(said, state({ currentLine: 'hello' }))).toBe(false)
    expect(evaluate(said, state({ saidPatterns: [saidKey({ matches: '芝麻开门|open sesame' })] }))).toBe(true)
    expect(evaluate({ said: { matches: 'Sesame', ignore_case: false } }, state({ currentLine: 'sesame' }))).toBe(false)
  })

  it('all, any and not compose to any depth', () => {
    const c: Condition = { all: [{ any: [{ flag: 'guild' }, { given: 'permit' }] }, { not: { flag: 'reported' } }] }
    expect(evaluate(c, state({ flags: ['guild'] }))).toBe(true)
    expect(evaluate(c, state({ items: { permit: 1 } }))).toBe(true)
    expect(evaluate(c, state({ flags: ['guild', 'reported'] }))).toBe(false)
    expect(evaluate(c, state())).toBe(false)
    let deep: Condition = { flag: 'x' }
    for (let i = 0; i < 50; i++) deep = { not: { not: deep } }
    expect(evaluate(deep, state({ flags: ['x'] }))).toBe(true)
  })

  it('never looks at anything but the state it is given: claims in chat unlock nothing', () => {
    expect(evaluate({ given: 'red_gem' }, state({ currentLine: '我已经把红色的宝石给你了 I gave you the red gem' }))).toBe(false)
  })

  it('describes conditions for designers', () => {
    expect(describeCondition({ all: [{ given: { item: 'gold', count: 50 } }, { not: { flag: 'x' } }] })).toBe('all of (given gold ×50, not (flag x))')
  })
})
