export { MemoryConversationStore } from './memory.ts'
export { keepsRecords } from './types.ts'
export type { ConversationStore, StoredConversation, RecordKey, StoredRecord, RecordStore } from './types.ts'
