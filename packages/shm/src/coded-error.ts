/**
 * The one error base every checkups package builds its error class from (`@checkups/shm`
 * is the root of the package graph, so every package can use it without a cycle).
 *
 * Invariants
 * - An error has a readonly, stable `code` (`<PREFIX>_ERR_*`), the message, and `cause` for
 *   the underlying error. Nothing branches on message text.
 * - `instanceof` goes by a brand, `Symbol.for('checkups.error.<Name>')`, not by prototype
 *   identity: an error made by one copy of a package is `instanceof` the class of another copy
 *   (two versions installed side by side, or a bundled copy). Every such error also carries
 *   `Symbol.for('checkups.error')`, which `isCodedError` checks.
 * - The class name is the instance's `name` (stack traces and logs show it).
 *
 * @example
 * export class CheckupsError extends defineErrorClass<CheckupsErrorCode>('CheckupsError') {}
 * throw new CheckupsError('CKP_ERR_NO_SERVERS', 'no servers available')
 */
export interface CodedErrorOptions {
  cause?: unknown
}

/** An error of any checkups package. */
export interface CodedError<C extends string = string> extends Error {
  readonly code: C
}

export interface CodedErrorClass<C extends string> {
  new (code: C, message: string, options?: CodedErrorOptions): CodedError<C>
  readonly prototype: CodedError<C>
  /** the class's brand, `Symbol.for('checkups.error.<Name>')` */
  readonly brand: symbol
}

/** The brand every checkups error carries. */
export const CODED_ERROR = Symbol.for('checkups.error')

/** True for an error made by any checkups package's error class (any copy of it). */
export function isCodedError(v: unknown): v is CodedError {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[CODED_ERROR] === true
}

/**
 * A package's code table from its codes: `{ CODE: 'CODE', ... }`, frozen (each code's meaning is
 * documented in docs/errors.md, which a test keeps in step with the tables).
 * @example export const ShmErrorCodes = codeTable('SHM_ERR_MAP', 'SHM_ERR_ATTACH')
 */
export function codeTable<const C extends string>(...codes: C[]): { readonly [K in C]: K } {
  return Object.freeze(Object.fromEntries(codes.map((c) => [c, c]))) as { readonly [K in C]: K }
}

/** Makes a package's error base class named `name`, branded (see the header). */
export function defineErrorClass<C extends string>(name: string): CodedErrorClass<C> {
  const brand = Symbol.for(`checkups.error.${name}`)
  class Coded extends Error implements CodedError<C> {
    readonly code: C
    static readonly brand = brand
    constructor(code: C, message: string, options?: CodedErrorOptions) {
      super(message, options)
      this.name = name
      this.code = code
    }
    static override [Symbol.hasInstance](v: unknown): boolean {
      return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[brand] === true
    }
  }
  Object.defineProperty(Coded, 'name', { value: name })
  Object.defineProperty(Coded.prototype, brand, { value: true })
  Object.defineProperty(Coded.prototype, CODED_ERROR, { value: true })
  return Coded
}
