import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'

export interface Located {
  /** The deepest node the path reached. */
  node: Node | null
  /** The key of the last map entry reached, when the path ended on one. */
  key: Node | null
  /** True when every segment of the path was found. */
  complete: boolean
}

/** Follows a zod issue path through the YAML tree, keeping the deepest node it can reach. */
export function locate(doc: Document, path: readonly PropertyKey[]): Located {
  let node = doc.contents as Node | null
  let key: Node | null = null
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment))
      if (!pair) return { node, key, complete: false }
      key = pair.key as Node
      node = (pair.value as Node | null) ?? key
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined
      if (!item) return { node, key, complete: false }
      key = null
      node = item
    } else {
      return { node, key, complete: false }
    }
  }
  return { node, key, complete: true }
}

/** The key node of `name` inside the map at `path`, for pointing at a misspelled key itself. */
export function keyNode(doc: Document, path: readonly PropertyKey[], name: string): Node | null {
  const { node } = locate(doc, path)
  if (!isMap(node)) return null
  const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === name)
  return (pair?.key as Node | undefined) ?? null
}

export function position(lineCounter: LineCounter, node: Node | null | undefined): { line: number; col: number } {
  const offset = node?.range?.[0]
  if (offset === undefined) return { line: 1, col: 1 }
  return lineCounter.linePos(offset)
}

/** A position in the NPC's data, written one way everywhere: `secrets[1].unlock.all[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else out += out === '' ? String(segment) : `.${String(segment)}`
  }
  return out
}

/** Where the value at `path` sits in an NPC file's text (1:1 when it cannot be found). */
export function positionIn(text: string, path: readonly PropertyKey[]): { line: number; col: number } {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, logLevel: 'silent' })
  return position(lineCounter, locate(doc, path).node)
}
