export { MemoryConversationStore } from './memory.ts'
export type { ConversationStore, StoredConversation } from './types.ts'
