/**
 * The dashboard: `GET /` serves a static page (apps/server/dashboard/, plain HTML, CSS and
 * JavaScript: no CDN, no build step) that reads `/status`, `/stats`, `/workers` and follows
 * `/events`. Its files hold no data, so they are served without the token; the page asks for
 * the token and sends it as `Authorization` with every call it makes.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Router } from '../router.js'

/** from dist/admin/routes (and src/admin/routes): three levels up is the package root */
const DIR = new URL('../../../dashboard/', import.meta.url)

const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
}

const cache = new Map<string, string>()

export function isDashboardFile(path: string): boolean {
  return Object.hasOwn(FILES, path)
}

function read(file: string): string {
  let text = cache.get(file)
  if (text === undefined) {
    text = readFileSync(fileURLToPath(new URL(file, DIR)), 'utf8')
    cache.set(file, text)
  }
  return text
}

export function register(router: Router): void {
  for (const [path, { file, type }] of Object.entries(FILES)) {
    router.add('GET', path, () => ({
      status: 200,
      body: read(file),
      headers: { 'content-type': type, 'cache-control': 'no-cache', 'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'" },
    }))
  }
}
