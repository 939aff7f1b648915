/** @module @parley/engine/node: the parts that read files. Node only. */
export { loadNpcDir, loadNpcFile, loadNpcs, listNpcFiles } from './content/load-dir.ts'
export { DiskEmbeddingCache } from './lore/disk-cache.ts'
