import fs from 'node:fs';
import path from 'node:path';

/** Ids handed out per write of the counter file. */
const BLOCK = 1000;

/**
 * Allocates producer ids that are never reused across restarts: the file
 * `producer-ids` holds the end of the reserved block, written and fsynced
 * before any id of a new block is handed out.
 */
export class ProducerIds {
  private readonly file: string;
  private nextId: bigint;
  private reservedEnd: bigint;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'producer-ids');
    let end = 0n;
    try {
      end = BigInt(fs.readFileSync(this.file, 'utf8').trim());
    } catch {
      end = 0n;
    }
    this.nextId = end;
    this.reservedEnd = end;
  }

  next(): bigint {
    if (this.nextId >= this.reservedEnd) {
      this.reservedEnd = this.nextId + BigInt(BLOCK);
      const tmp = `${this.file}.tmp`;
      fs.writeFileSync(tmp, String(this.reservedEnd));
      const fd = fs.openSync(tmp, 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(tmp, this.file);
    }
    const id = this.nextId;
    this.nextId++;
    return id;
  }
}
