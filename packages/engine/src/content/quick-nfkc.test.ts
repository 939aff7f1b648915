import { describe, expect, it } from 'vitest'
import { quickLowerCase, quickLowerNfkc, quickNfkcUnit } from './quick-nfkc.ts'

describe('NFKC without ICU', () => {
  it('is NFKC on every code unit of the BMP it answers for', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c)
      const quick = quickNfkcUnit(c)
      if (quick >= 0) expect(String.fromCharCode(quick), c.toString(16)).toBe(ch.normalize('NFKC'))
    }
    expect(quickNfkcUnit(0x3000)).toBe(-1)
    expect(quickNfkcUnit(0xf900)).toBe(-1)
    expect(quickNfkcUnit(0x0301)).toBe(-1)
  })

  it('lowercases as toLowerCase() does every code unit of the BMP it answers for', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c)
      const lower = quickLowerCase(ch)
      if (lower !== undefined) expect(lower, c.toString(16)).toBe(ch.toLowerCase())
      expect(lower === undefined, c.toString(16)).toBe(quickNfkcUnit(c) < 0)
    }
    for (const line of ['霓虹区哪里能打听到消息？', 'ＨＥＬＬＯ, World!', 'MAP 地图']) expect(quickLowerCase(line)).toBe(line.toLowerCase())
    expect(quickLowerCase('Café')).toBeUndefined()
  })

  it('lowercases and normalises lines as toLowerCase().normalize("NFKC") does, or leaves them to it', () => {
    for (const line of ['霓虹区哪里能打听到消息？', 'ＨＥＬＬＯ, World!', '任务结束!', 'plain ascii', '', '、。']) expect(quickLowerNfkc(line)).toBe(line.toLowerCase().normalize('NFKC'))
    for (const line of ['Café', 'ﬁn', '任务　结束', '𠀀']) expect(quickLowerNfkc(line)).toBeUndefined()
    const same = '霓虹区哪里能打听到消息'
    expect(quickLowerNfkc(same)).toBe(same)
  })
})
