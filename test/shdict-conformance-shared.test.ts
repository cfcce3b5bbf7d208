// The shdict conformance suite against a real shared-memory zone: each call runs in the
// next of 3 processes (this one and 2 forked children attached to the same zone).
import { conformance } from '../packages/shdict/test/conformance.case.js'
import { rotatingExecutor } from '../packages/shdict/test/support/rotating.js'

conformance('shared memory, 3 processes (rotating)', async () => rotatingExecutor(1 << 20, 2))
