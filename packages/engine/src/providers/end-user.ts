import { ParleyError } from '../errors.ts'
import type { Provider } from './types.ts'

/** GLM's `user_id` is 6–128 characters (glm-api.md §2, §8). */
export function checkUserId(userId: string): string {
  if (typeof userId !== 'string' || userId.length < 6 || userId.length > 128 || /[\u0000-\u001f]/.test(userId)) {
    throw new ParleyError('invalid_argument', `userId must be 6 to 128 printable characters (GLM's user_id), got ${typeof userId === 'string' ? `${userId.length} characters` : typeof userId}`)
  }
  return userId
}

/**
 * The provider with every turn naming the player, so GLM applies a content-safety lockout to
 * that player rather than to the studio's whole key.
 */
export function forPlayer(provider: Provider, userId: string | undefined): Provider {
  if (userId === undefined) return provider
  const id = checkUserId(userId)
  return { name: provider.name, reply: (turn, onDelta) => provider.reply({ ...turn, userId: id }, onDelta) }
}
