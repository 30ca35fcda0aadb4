import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { freePortOutsideEphemeralRange as freePort, isAlive, isPortOpen, portListener, reclaimPort, waitUntil } from './process.util';

/** A stand-in server: a real process listening on the port, with `marker` on its command line. */
async function serverNaming(marker: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1')`, marker], {
    stdio: 'ignore',
  });
  await waitUntil(`stand-in server on ${port}`, () => isPortOpen('127.0.0.1', port), { timeoutMs: 10_000, intervalMs: 20, pid: child.pid });
  return { child, port };
}

describe('reclaiming a port before a server starts there', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('finds the process listening on a port and its command line', async () => {
    const { child, port } = await serverNaming('/checkout-a/.grantline/kafka');
    children.push(child);
    expect(portListener(port)).toEqual({ pid: child.pid, cmdline: expect.stringContaining('/checkout-a/.grantline/kafka') });
    expect(portListener(await freePort())).toBeUndefined();
  });

  it('stops a server an earlier checkout at this path left running, and says so', async () => {
    const { child, port } = await serverNaming('/checkout-b/.grantline/kafka');
    children.push(child);
    const lines: string[] = [];

    await reclaimPort('kafka', '127.0.0.1', port, { ownedPaths: ['/checkout-b/.grantline/kafka'], hint: 'h', log: (l) => void lines.push(l) });

    expect(isAlive(child.pid ?? -1)).toBe(false);
    // not "the port is closed": in a busy suite another process listening on port 0 may get it at once
    expect(portListener(port)?.pid).not.toBe(child.pid);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`127\\.0\\.0\\.1:${port} was held by pid ${child.pid}, left running by an earlier checkout`))]);
  });

  it("leaves somebody else's server alone and names the port and how to move", async () => {
    const { child, port } = await serverNaming('/elsewhere/server');
    children.push(child);

    await expect(
      reclaimPort('mongo', '127.0.0.1', port, { ownedPaths: ['/checkout-c/.grantline/ferretdb'], hint: 'set GRANTLINE_MONGO_PORT', log: () => undefined }),
    ).rejects.toThrow(`mongo: 127.0.0.1:${port} is already in use by a process the harness did not start; set GRANTLINE_MONGO_PORT`);
    expect(isAlive(child.pid ?? -1)).toBe(true);
  });

  it('does nothing when the port is free', async () => {
    await expect(reclaimPort('postgres', '127.0.0.1', await freePort(), { ownedPaths: ['/x'], hint: 'h', log: () => undefined })).resolves.toBeUndefined();
  });
});
