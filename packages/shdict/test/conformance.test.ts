import { conformance } from './conformance.case.js'
import { localExecutor } from './support/executor.js'

conformance('plain SharedArrayBuffer, one process', async () => localExecutor(1 << 20))
