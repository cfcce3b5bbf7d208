export { createFilePersistence, writeFileAtomic, type FilePersistence } from './file.js'
export { loadStateFile } from './load.js'
export {
  STATE_FILE_FORMAT,
  DEFAULT_STATE_FILE_NAME,
  type Persistence,
  type PendingSave,
  type StateSnapshot,
  type StateFileContent,
} from './types.js'
