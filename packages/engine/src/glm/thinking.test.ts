import { describe, expect, it } from 'vitest'
import { acceptsToolStream, familyOf, serverKindOf, thinkingFields, willThink } from './thinking.ts'

describe('thinking per model family', () => {
  it.each([
    ['glm-4-flash', 'glm-4'],
    ['glm-4-air-250414', 'glm-4'],
    ['glm-4-32b-0414-128k', 'glm-4'],
    ['glm4:9b', 'glm-4'],
    ['glm-4.5-air', 'glm-4.5'],
    ['glm-4.7-flash', 'glm-4.5'],
    ['glm-5', 'glm-4.5'],
    ['glm-5-turbo', 'glm-4.5'],
    ['glm-5.1', 'glm-4.5'],
    ['glm-5.2', 'glm-5.2'],
    ['glm-5.3', 'glm-5.3'],
    ['glm-6', 'glm-5.2'],
    ['glm-z1-flash', 'glm-z1'],
    ['zai-org/GLM-4.5-Air', 'glm-4.5'],
    ['qwen3:8b', 'other'],
  ])('%s is in the %s family', (model, family) => {
    expect(familyOf(model).id).toBe(family)
  })

  it('asks each family, on GLM, for as little thinking as it allows', () => {
    expect(thinkingFields('glm-4-flash', 'glm', false)).toEqual({})
    expect(thinkingFields('glm-4.7-flash', 'glm', false)).toEqual({ thinking: { type: 'disabled' } })
    expect(thinkingFields('glm-4.7-flash', 'glm', true)).toEqual({ thinking: { type: 'enabled' } })
    expect(thinkingFields('glm-5.2', 'glm', false)).toEqual({ reasoning_effort: 'none' })
    expect(thinkingFields('glm-5.2', 'glm', true)).toEqual({})
    expect(thinkingFields('glm-5.3', 'glm', false)).toEqual({ reasoning_effort: 'low' })
    expect(thinkingFields('glm-z1-flash', 'glm', false)).toEqual({})
  })

  it('uses the server\'s switch on OpenAI-compatible bases', () => {
    expect(thinkingFields('glm-4.5-air', 'ollama', false)).toEqual({ reasoning_effort: 'none' })
    expect(thinkingFields('glm-4.5-air', 'vllm', false)).toEqual({ chat_template_kwargs: { enable_thinking: false } })
    expect(thinkingFields('glm-4.5-air', 'vllm', true)).toEqual({ chat_template_kwargs: { enable_thinking: true } })
    expect(thinkingFields('glm-4', 'vllm', false)).toEqual({})
    expect(thinkingFields('glm-4.5-air', 'openai', false)).toEqual({})
  })

  it('knows the server from the base URL', () => {
    expect(serverKindOf('https://open.bigmodel.cn/api/paas/v4')).toBe('glm')
    expect(serverKindOf('https://api.z.ai/api/paas/v4')).toBe('glm')
    expect(serverKindOf('http://localhost:11434/v1')).toBe('ollama')
    expect(serverKindOf('http://gpu-box:8000/v1')).toBe('vllm')
  })

  it('knows which requests will think', () => {
    expect(willThink('glm-4-flash', 'glm', true)).toBe(false)
    expect(willThink('glm-4.7', 'glm', false)).toBe(false)
    expect(willThink('glm-4.7', 'glm', true)).toBe(true)
    expect(willThink('glm-5.3', 'glm', false)).toBe(true)
    expect(willThink('glm-z1-air', 'glm', false)).toBe(true)
  })

  it('asks for tool_stream only where GLM takes it (glm-4.6 and later)', () => {
    expect(['glm-4-flash', 'glm-4.5-air', 'glm-4.6', 'glm-4.7-flash', 'glm-5', 'glm-5.2', 'glm-5.3', 'glm-z1-air'].filter(acceptsToolStream)).toEqual(['glm-4.6', 'glm-4.7-flash', 'glm-5', 'glm-5.2', 'glm-5.3'])
  })
})
