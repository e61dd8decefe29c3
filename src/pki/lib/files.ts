import { chmodSync, linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * Writes `content` to `file` only if no file is there, atomically: the content goes to a
 * temporary file which is then hard-linked into place. link(2) fails when the target exists,
 * so two processes generating the same file never overwrite each other and a reader never
 * sees half a key. Returns false when the file already existed.
 */
export function writeIfAbsent(file: string, content: string, mode: number): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode, flag: 'wx' });
  try {
    chmodSync(tmp, mode); // independent of the umask
    try {
      linkSync(tmp, file);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw err;
      // File systems without hard links: exclusive create is still never an overwrite.
      try {
        writeFileSync(file, content, { mode, flag: 'wx' });
        chmodSync(file, mode);
        return true;
      } catch (inner) {
        if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw inner;
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The file's text, or undefined when it does not exist. */
export function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
