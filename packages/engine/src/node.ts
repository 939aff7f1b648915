/** @module @parley/engine/node: the parts that read files. Node only. */
export { loadNpcDir, loadNpcFile, loadNpcs, listNpcFiles } from './content/load-dir.ts'
export type { LoadOptions } from './content/load-dir.ts'
export { defaultContentRoot, MAX_LORE_BYTES } from './content/lore-file.ts'
export { DiskEmbeddingCache } from './lore/disk-cache.ts'
