import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
    changedKeys,
    CLIENT_ONLY_KEYS,
    declaredKeys,
    expandPath,
    PackageJsonLike,
    readClientSettings,
    RESTART_KEYS,
    serverDefaults,
    serverKeys,
    toInitializationOptions,
} from '../../common/settings';

const pkg: PackageJsonLike = JSON.parse(
    fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));

function config(values: Record<string, unknown>) {
    return { get: <T>(key: string) => values[key] as T | undefined };
}

test('every declared setting has a type and a default; the server gets all but the client-only ones', () => {
    // The values themselves are checked against the server's defaults by
    // tests/editors/vscode/test_vscode_settings.py (Python reads both sides).
    const props = pkg.contributes!.configuration!.properties! as Record<string, { type?: string; default?: unknown }>;
    for (const [key, schema] of Object.entries(props)) {
        assert.ok(schema.type, `${key} has no type`);
        assert.ok('default' in schema, `${key} has no default`);
    }
    const defaults = serverDefaults(pkg);
    assert.deepEqual(Object.keys(defaults), serverKeys(pkg));
    assert.equal(defaults.model, props['ghostwright.model'].default);
});

test('client-only keys are declared but never sent to the server', () => {
    for (const key of CLIENT_ONLY_KEYS) {
        assert.ok(declaredKeys(pkg).includes(key), key);
        assert.ok(!serverKeys(pkg).includes(key), key);
    }
    const options = toInitializationOptions(config({ serverPath: '/x/ghostwright', serverArgs: ['-v'] }), pkg);
    assert.ok(!('serverPath' in options));
    assert.ok(!('serverArgs' in options));
});

test('initializationOptions take configured values and fall back to defaults', () => {
    const options = toInitializationOptions(config({ maxTokens: 32, languages: ['python'], streaming: true, model: null }), pkg);
    assert.equal(options.maxTokens, 32);
    assert.deepEqual(options.languages, ['python']);
    assert.equal(options.streaming, true);
    assert.equal(options.model, 'default');
    assert.equal(options.deadlineMs, 2000);
    assert.deepEqual(Object.keys(options), serverKeys(pkg));
});

test('restart keys are all declared', () => {
    for (const key of RESTART_KEYS) {
        assert.ok(declaredKeys(pkg).includes(key), key);
    }
});

test('paths expand ~, ${userHome} and ${workspaceFolder}', () => {
    const vars = { home: '/home/me', workspaceFolder: '/src/app' };
    assert.equal(expandPath('~/.venv/bin/ghostwright', vars), '/home/me/.venv/bin/ghostwright');
    assert.equal(expandPath('${workspaceFolder}/.venv/bin/ghostwright', vars), '/src/app/.venv/bin/ghostwright');
    assert.equal(expandPath('${userHome}/bin/gw', vars), '/home/me/bin/gw');
    assert.equal(expandPath('ghostwright', vars), 'ghostwright');
    assert.equal(expandPath('${workspaceFolder}/x', { home: '/h' }), '${workspaceFolder}/x');
});

test('client settings: serverPath defaults to ghostwright, serverArgs keeps strings only', () => {
    const vars = { home: '/home/me' };
    assert.deepEqual(readClientSettings(config({}), vars), { serverPath: 'ghostwright', serverArgs: [] });
    assert.deepEqual(readClientSettings(config({ serverPath: '  ', serverArgs: ['--model-dir', '~/m', 3] }), vars),
        { serverPath: 'ghostwright', serverArgs: ['--model-dir', '/home/me/m'] });
});

test('changedKeys maps affectsConfiguration onto declared keys', () => {
    const touched = new Set(['ghostwright.enabled', 'ghostwright.model']);
    assert.deepEqual(changedKeys(declaredKeys(pkg), (s) => touched.has(s)), ['enabled', 'model']);
});
