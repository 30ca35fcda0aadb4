import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingEventTypes } from '@grantline/asyncapi';
import type { AsyncApiDocument } from '@grantline/asyncapi';
import { bufferedOutput } from '../output';
import { asyncApiCommand } from './asyncapi-command';

describe('grantline asyncapi', () => {
  it('prints the AsyncAPI document of the event log, every event type in it', () => {
    const output = bufferedOutput();
    expect(asyncApiCommand({}, output)).toBe(0);
    const document = JSON.parse(output.stdout()) as AsyncApiDocument;
    expect(document.asyncapi).toBe('3.0.0');
    expect(missingEventTypes(document)).toEqual([]);
  });

  it('writes it to --out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asyncapi-cli-'));
    try {
      const output = bufferedOutput();
      const file = join(dir, 'asyncapi.json');
      expect(asyncApiCommand({ out: file }, output)).toBe(0);
      expect(output.stdout()).toBe('');
      expect((JSON.parse(readFileSync(file, 'utf8')) as AsyncApiDocument).channels['requests']?.address).toBe('iga.requests.v1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
