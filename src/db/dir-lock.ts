import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * An exclusive lock on an embedded database directory. PGlite is one process's database: a
 * second process (the server and `npm run import`, say) writing the same files would corrupt
 * them. The lock file holds the owner's pid; a lock whose process is gone is taken over.
 */
export function lockDirectory(file: string): () => void {
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new Error(
        `the embedded database ${file.replace(/\.lock$/, '')} is in use by process ${owner}; stop it first (or, to import while the server runs, use the importDocuments mutation)`,
      );
    }
    rmSync(file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
