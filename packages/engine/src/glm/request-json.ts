/**
 * A request body as `JSON.stringify` writes it, byte for byte, with each frozen message's JSON
 * kept from the call before: a conversation resends its whole history window on every turn, and
 * its entries never change (History freezes them), so serialising them again was most of the
 * cost of writing the body.
 */
const messageJson = new WeakMap<object, string>()

/**
 * Only a message that cannot change is kept: a frozen plain object whose fields are all data
 * properties holding text, numbers or booleans (a nested object, a getter or a `toJSON` could
 * change under a shallow freeze). Checked once per message, when its JSON is first written.
 */
function keepable(message: object): boolean {
  if (!Object.isFrozen(message)) return false
  const proto = Object.getPrototypeOf(message)
  if (proto !== Object.prototype && proto !== null) return false
  for (const descriptor of Object.values(Object.getOwnPropertyDescriptors(message))) {
    if (!('value' in descriptor)) return false
    const t = typeof descriptor.value
    if (t !== 'string' && t !== 'number' && t !== 'boolean' && t !== 'undefined') return false
  }
  return true
}

function messagesJson(messages: readonly unknown[]): string {
  const parts = new Array<string>(messages.length)
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]
    let json = typeof m === 'object' && m !== null ? messageJson.get(m) : undefined
    if (json === undefined) {
      // What JSON.stringify writes for an array element it cannot represent.
      json = JSON.stringify(m) ?? 'null'
      if (typeof m === 'object' && m !== null && keepable(m)) messageJson.set(m, json)
    }
    parts[i] = json
  }
  return `[${parts.join(',')}]`
}

/** `JSON.stringify(payload)` for a plain request object, reusing the JSON of unchanged messages. */
export function requestJson(payload: Readonly<Record<string, unknown>>): string {
  const messages = payload.messages
  if (!Array.isArray(messages) || typeof (payload as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(payload)
  const fields: string[] = []
  for (const key of Object.keys(payload)) {
    const value = payload[key]
    const json = key === 'messages' ? messagesJson(messages) : JSON.stringify(value)
    // Undefined, functions and symbols are left out, as JSON.stringify leaves them out.
    if (json !== undefined) fields.push(`${JSON.stringify(key)}:${json}`)
  }
  return `{${fields.join(',')}}`
}
