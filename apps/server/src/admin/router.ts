/**
 * The admin router (docs/internals.md §Admin router): `router.add(method, '/a/:b', handler)`.
 * Each endpoint group is a module under ./routes that exports `register(router)`.
 * Matching: exact segments, `:name` captures one URI-decoded segment; a trailing slash is
 * ignored. A known path with another method is 405, an unknown path 404.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { CheckupsInstance, ResolvedConfig, WorkerIdentity, WorkerInfo } from '@checkups/runtime'
import { AdminError } from './errors.js'

export interface AdminRequest {
  method: string
  path: string
  params: Record<string, string>
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** parsed JSON, or undefined without a body */
  body: unknown
}

export interface AdminResponse {
  status: number
  /** JSON-serialised, or sent as is when a string */
  body: unknown
  headers?: Record<string, string>
  /** a streamed answer (Server-Sent Events): called with the response after status + headers */
  stream?: (res: ServerResponse) => void
}

export interface AdminContext {
  worker: WorkerIdentity
  checkups: CheckupsInstance
  config: ResolvedConfig
  workers(): Promise<WorkerInfo[]>
}

export type Handler = (req: AdminRequest, ctx: AdminContext) => AdminResponse | Promise<AdminResponse>

interface Route { method: string; pattern: string; segments: string[]; handler: Handler }

/** `pattern` is the route as registered (`/upstreams/:skey`): a bounded metrics label. */
export interface Match { handler: Handler; params: Record<string, string>; pattern: string }

export class Router {
  readonly #routes: Route[] = []

  add(method: string, pattern: string, handler: Handler): this {
    this.#routes.push({ method: method.toUpperCase(), pattern, segments: split(pattern), handler })
    return this
  }

  /** The handler for a request, or throws AdminError 404/405. */
  match(method: string, path: string): Match {
    const segments = split(path)
    let pathKnown = false
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments)
      if (!params) continue
      pathKnown = true
      if (route.method === method.toUpperCase()) return { handler: route.handler, params, pattern: route.pattern }
    }
    if (pathKnown) throw new AdminError('ADM_ERR_METHOD_NOT_ALLOWED', 405, `method ${method} not allowed on ${path}`)
    throw new AdminError('ADM_ERR_NOT_FOUND', 404, `no such endpoint: ${method} ${path}`)
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '')
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!
    const a = actual[i]!
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(a)
      } catch {
        return undefined
      }
    } else if (p !== a) {
      return undefined
    }
  }
  return params
}
