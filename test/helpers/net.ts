import { createServer } from 'node:net'

/** A loopback port nothing listens on right now: for servers under test, or a refused connection. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}
