import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveExecutable } from '../../common/executable';

const files = new Set(['/usr/bin/ghostwright', '/opt/venv/bin/ghostwright', '/ws/.venv/bin/ghostwright',
    'C:\\Py\\Scripts\\ghostwright.EXE']);
const isExecutable = (f: string) => files.has(f);

test('a bare name is looked up on PATH, first match wins', () => {
    const env = { PATH: '/nowhere:/opt/venv/bin:/usr/bin' };
    assert.equal(resolveExecutable('ghostwright', { env, isExecutable, platform: 'linux' }), '/opt/venv/bin/ghostwright');
});

test('missing from PATH, or no PATH at all: undefined', () => {
    assert.equal(resolveExecutable('ghostwright', { env: { PATH: '/a:/b' }, isExecutable, platform: 'linux' }), undefined);
    assert.equal(resolveExecutable('ghostwright', { env: {}, isExecutable, platform: 'linux' }), undefined);
});

test('absolute and workspace-relative paths are checked as they are', () => {
    const opts = { env: { PATH: '' }, isExecutable, platform: 'linux' as const, cwd: '/ws' };
    assert.equal(resolveExecutable('/usr/bin/ghostwright', opts), '/usr/bin/ghostwright');
    assert.equal(resolveExecutable('.venv/bin/ghostwright', opts), '/ws/.venv/bin/ghostwright');
    assert.equal(resolveExecutable('/missing/ghostwright', opts), undefined);
});

test('windows: PATHEXT extensions are tried', () => {
    const env = { Path: 'C:\\Py\\Scripts', PATHEXT: '.COM;.EXE' };
    assert.equal(resolveExecutable('ghostwright', { env, isExecutable, platform: 'win32' }), 'C:\\Py\\Scripts\\ghostwright.EXE');
});
