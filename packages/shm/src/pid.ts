/**
 * The one pid probe: whether process `pid` exists. Signal 0 checks without delivering;
 * EPERM means it exists but belongs to another user (alive), ESRCH that it is gone.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
