import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { watchParent } from './parent-watch.js';

describe('watchParent', () => {
  it('calls back once the watched process is gone, and not before', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
    let gone = 0;
    watchParent(child.pid!, () => gone++, 20);
    await new Promise((r) => setTimeout(r, 200));
    expect(gone).toBe(0);
    child.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (gone === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(gone).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(gone).toBe(1);
  });
});
