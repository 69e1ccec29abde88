import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerText, describeStats, describeStatus, formatLatency, formatStatusBar, ServerStatus } from '../../common/status';

const ready: ServerStatus = {
    model: 'smollm2-135m-instruct', loaded: true, error: null, device: 'cpu', tiers: ['full', 'mini'],
    fim: false, lastLatencyMs: 183.4, modelCalls: 3, typedAheadHits: 1, indexedFiles: 12,
};

test('latency: ms below a second, seconds above, a dash when unknown', () => {
    assert.equal(formatLatency(183.4), '183 ms');
    assert.equal(formatLatency(2140), '2.1 s');
    assert.equal(formatLatency(null), '–');
    assert.equal(formatLatency(undefined), '–');
});

test('status bar when ready: model · device · last latency', () => {
    const out = formatStatusBar({ enabled: true, connection: 'running', status: ready });
    assert.equal(out.text, '$(sparkle) smollm2-135m-instruct · cpu · 183 ms');
    assert.equal(out.severity, 'normal');
    assert.match(out.tooltip, /Device: cpu/);
    assert.match(out.tooltip, /tiers: full, mini/);
});

test('status bar: off, starting, loading, model error, server failed', () => {
    assert.equal(formatStatusBar({ enabled: false, connection: 'running', status: ready }).text, '$(circle-slash) Ghostwright off');
    assert.equal(formatStatusBar({ enabled: true, connection: 'starting' }).text, '$(loading~spin) Ghostwright');
    const loading = formatStatusBar({ enabled: true, connection: 'running', status: { model: 'm', loaded: false } });
    assert.equal(loading.text, '$(loading~spin) m');
    const broken = formatStatusBar({ enabled: true, connection: 'running', status: { model: 'm', loaded: false, error: 'no model' } });
    assert.equal(broken.severity, 'warning');
    assert.match(broken.tooltip, /no model/);
    assert.equal(formatStatusBar({ enabled: true, connection: 'failed' }).severity, 'error');
});

test('status bar while streaming shows the characters decoded so far', () => {
    const out = formatStatusBar({ enabled: true, connection: 'running', status: ready, busy: true, streamedChars: 17 });
    assert.equal(out.text, '$(loading~spin) smollm2-135m-instruct · cpu · 17 chars…');
    const waiting = formatStatusBar({ enabled: true, connection: 'running', status: ready, busy: true });
    assert.equal(waiting.text, '$(loading~spin) smollm2-135m-instruct · cpu · …');
});

test('describeStatus lists what the server reports', () => {
    const lines = describeStatus(ready, true);
    assert.deepEqual(lines, [
        'Inline suggestions: on',
        'Model: smollm2-135m-instruct (loaded)',
        'Device: cpu',
        'Tiers: full, mini',
        'Fill-in-the-middle: no',
        'Last suggestion latency: 183 ms',
        'Model calls: 3, typed-ahead hits: 1',
        'Indexed files: 12',
    ]);
    assert.equal(describeStatus({ model: 'm', error: 'gone' }, false)[1], 'Model: m (failed: gone)');
});

test('describeStats: counts, rate and latency percentiles in order', () => {
    assert.equal(describeStats({ shown: 0, accepted: 0, acceptance_rate: null }), 'No suggestions shown yet.');
    assert.equal(
        describeStats({ shown: 8, accepted: 2, acceptance_rate: 0.25, latency_p90_ms: 900, latency_p50_ms: 120.5 }),
        '8 shown, 2 accepted (25%); latency p50 121 ms, p90 900 ms');
});

test('answerText accepts a string or an object with the answer', () => {
    assert.equal(answerText('hi'), 'hi');
    assert.equal(answerText({ answer: 'a' }), 'a');
    assert.equal(answerText({ markdown: '**m**' }), '**m**');
    assert.match(answerText({ other: 1 }), /```json/);
});
