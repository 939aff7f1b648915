import { ParleyError } from '../errors.ts'

/** GLM's `user_id` is 6–128 characters (glm-api.md §2, §8). */
export function checkUserId(userId: string): string {
  if (typeof userId !== 'string' || userId.length < 6 || userId.length > 128 || /[\u0000-\u001f]/.test(userId)) {
    throw new ParleyError('invalid_argument', `userId must be 6 to 128 printable characters (GLM's user_id), got ${typeof userId === 'string' ? `${userId.length} characters` : typeof userId}`)
  }
  return userId
}
