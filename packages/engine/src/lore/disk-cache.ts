import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { EmbeddingCache } from './embeddings.ts'

/** Embeddings on disk, one small JSON file per content hash: unchanged lore is never embedded twice. */
export class DiskEmbeddingCache implements EmbeddingCache {
  readonly dir: string
  constructor(dir = '.parley-cache/embeddings') {
    this.dir = dir
  }
  async get(key: string): Promise<number[] | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, `${key}.json`), 'utf8')) as number[]
    } catch {
      return undefined
    }
  }
  async set(key: string, vector: number[]): Promise<void> {
    const file = join(this.dir, `${key}.json`)
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, JSON.stringify(vector))
  }
}
