/**
 * What the status bar and the Show Status / Show Stats commands say, as pure functions of
 * the server's `ghostwright.status` / `ghostwright.stats` answers (tested without VS Code).
 */

/** `ghostwright.status` → this object (fields absent from older servers stay undefined). */
export interface ServerStatus {
    model?: string;
    loaded?: boolean;
    error?: string | null;
    device?: string | null;
    tiers?: string[];
    fim?: boolean | null;
    lastLatencyMs?: number | null;
    modelCalls?: number;
    typedAheadHits?: number;
    indexedFiles?: number | null;
    engine?: unknown;
}

/** `ghostwright.stats` → this object. */
export interface ServerStats {
    shown?: number;
    accepted?: number;
    acceptance_rate?: number | null;
    [percentile: string]: number | null | undefined;
}

export type ConnectionState = 'starting' | 'running' | 'stopped' | 'failed';

export interface StatusView {
    enabled: boolean;
    connection: ConnectionState;
    status?: ServerStatus;
    /** Characters streamed so far for the request in flight (streaming on), else undefined. */
    streamedChars?: number;
    /** True while an inline request is in flight. */
    busy?: boolean;
}

export interface StatusBarContent {
    text: string;
    tooltip: string;
    /** `error` and `warning` colour the item. */
    severity: 'normal' | 'warning' | 'error';
}

export function formatLatency(ms: number | null | undefined): string {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) {
        return '–';
    }
    return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatStatusBar(view: StatusView): StatusBarContent {
    const s = view.status ?? {};
    const model = s.model ?? 'Ghostwright';
    const lines = [`Ghostwright — ${view.enabled ? 'on' : 'off'}`];
    if (s.model) {
        lines.push(`Model: ${s.model}${s.tiers && s.tiers.length ? ` (tiers: ${s.tiers.join(', ')})` : ''}`);
    }
    if (s.device) {
        lines.push(`Device: ${s.device}`);
    }
    if (s.lastLatencyMs !== undefined && s.lastLatencyMs !== null) {
        lines.push(`Last suggestion: ${formatLatency(s.lastLatencyMs)}`);
    }
    lines.push('Click for status and actions');
    const tooltip = (head: string) => [head, ...lines].filter(Boolean).join('\n');

    if (view.connection === 'failed') {
        return { text: '$(error) Ghostwright', tooltip: tooltip('The server is not running (see Output › Ghostwright).'), severity: 'error' };
    }
    if (view.connection === 'stopped') {
        return { text: '$(debug-stop) Ghostwright', tooltip: tooltip('The server is stopped.'), severity: 'warning' };
    }
    if (!view.enabled) {
        return { text: '$(circle-slash) Ghostwright off', tooltip: tooltip(''), severity: 'normal' };
    }
    if (view.connection === 'starting') {
        return { text: '$(loading~spin) Ghostwright', tooltip: tooltip('Starting the server…'), severity: 'normal' };
    }
    if (s.error) {
        return { text: '$(warning) Ghostwright', tooltip: tooltip(`Model failed to load: ${s.error}`), severity: 'warning' };
    }
    if (!s.loaded) {
        return { text: `$(loading~spin) ${model}`, tooltip: tooltip('Loading the model…'), severity: 'normal' };
    }
    const parts = [model];
    if (s.device) {
        parts.push(s.device);
    }
    if (view.busy) {  // a suggestion is being decoded (with streaming: how much has arrived)
        parts.push(view.streamedChars !== undefined ? `${view.streamedChars} chars…` : '…');
        return { text: `$(loading~spin) ${parts.join(' · ')}`, tooltip: tooltip('Suggesting…'), severity: 'normal' };
    }
    parts.push(formatLatency(s.lastLatencyMs));
    return { text: `$(sparkle) ${parts.join(' · ')}`, tooltip: tooltip(''), severity: 'normal' };
}

/** Lines for Show Status (also written to the output channel). */
export function describeStatus(status: ServerStatus, enabled: boolean): string[] {
    const lines = [
        `Inline suggestions: ${enabled ? 'on' : 'off'}`,
        `Model: ${status.model ?? '?'} (${status.error ? `failed: ${status.error}` : status.loaded ? 'loaded' : 'loading'})`,
    ];
    if (status.device) {
        lines.push(`Device: ${status.device}`);
    }
    if (status.tiers && status.tiers.length) {
        lines.push(`Tiers: ${status.tiers.join(', ')}`);
    }
    if (status.fim !== undefined && status.fim !== null) {
        lines.push(`Fill-in-the-middle: ${status.fim ? 'yes' : 'no'}`);
    }
    lines.push(`Last suggestion latency: ${formatLatency(status.lastLatencyMs)}`);
    if (status.modelCalls !== undefined) {
        lines.push(`Model calls: ${status.modelCalls}, typed-ahead hits: ${status.typedAheadHits ?? 0}`);
    }
    if (status.indexedFiles !== undefined && status.indexedFiles !== null) {
        lines.push(`Indexed files: ${status.indexedFiles}`);
    }
    return lines;
}

/** One line for Show Stats. */
export function describeStats(stats: ServerStats): string {
    const shown = stats.shown ?? 0;
    const accepted = stats.accepted ?? 0;
    if (!shown) {
        return 'No suggestions shown yet.';
    }
    const rate = stats.acceptance_rate ?? accepted / shown;
    const parts = [`${shown} shown, ${accepted} accepted (${Math.round(rate * 100)}%)`];
    const percentiles = Object.keys(stats)
        .map((key) => /^latency_p(\d+)_ms$/.exec(key))
        .filter((m): m is RegExpExecArray => m !== null)
        .sort((a, b) => Number(a[1]) - Number(b[1]))
        .map((m) => `p${m[1]} ${formatLatency(stats[m[0]] as number)}`);
    if (percentiles.length) {
        parts.push(`latency ${percentiles.join(', ')}`);
    }
    return parts.join('; ');
}

/** `ghostwright.ask` → a string, or an object with the answer in `answer`, `text` or `markdown`. */
export function answerText(result: unknown): string {
    if (typeof result === 'string') {
        return result;
    }
    if (result && typeof result === 'object') {
        for (const key of ['answer', 'markdown', 'text']) {
            const value = (result as Record<string, unknown>)[key];
            if (typeof value === 'string') {
                return value;
            }
        }
    }
    return '```json\n' + JSON.stringify(result, null, 2) + '\n```';
}
