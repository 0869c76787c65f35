/** Local-mode pepper: 32 random bytes generated once into `<dataDir>/pepper` (mode 0600). */
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { PepperSource } from '../domain/ports.js';
import { retryableOnce } from '../domain/once.js';

export const PEPPER_BYTES = 32;

/**
 * {@link PepperSource} backed by a file. The first start creates it; later starts reuse it, so
 * digests stay valid across restarts. Creation is race-free between processes: the bytes are
 * written to a private temporary file that is then hard-linked into place, which fails if another
 * process won, and the loser reads the winner's file.
 */
export class FilePepper implements PepperSource {
  readonly file: string;
  private readonly cached = retryableOnce(() => this.load());

  constructor(private readonly opts: { dataDir: string }) {
    this.file = join(opts.dataDir, 'pepper');
  }

  get(): Promise<Buffer> {
    return this.cached();
  }

  private async load(): Promise<Buffer> {
    const existing = await this.readExisting();
    if (existing) return existing;
    await mkdir(this.opts.dataDir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, randomBytes(PEPPER_BYTES), { mode: 0o600, flag: 'wx' });
    try {
      await link(tmp, this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    const created = await this.readExisting();
    if (!created) throw new Error(`pepper file ${this.file} could not be created`);
    return created;
  }

  private async readExisting(): Promise<Buffer | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    if (bytes.length < PEPPER_BYTES) {
      // Never regenerate silently: a new pepper would invalidate every stored digest.
      throw new Error(`pepper file ${this.file} is ${bytes.length} bytes; expected ${PEPPER_BYTES}. Restore it or remove the data directory.`);
    }
    // Someone loosened the permissions: the pepper is a secret, tighten them again.
    if (((await stat(this.file)).mode & 0o077) !== 0) await chmod(this.file, 0o600);
    return bytes;
  }
}
