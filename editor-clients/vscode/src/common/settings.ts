/**
 * Settings: package.json declares every `ghostwright.*` key once, with its default.
 *
 * The server settings are all of them except the client-only keys below; they travel
 * as `initializationOptions` and later as `workspace/didChangeConfiguration`, camelCase,
 * exactly as the Python side (`ghostwright.server.settings`) reads them. Nothing here
 * imports `vscode`, so `node --test` can exercise it.
 */

export const SECTION = 'ghostwright';

/** Read by the extension only; never sent to the server (it warns about unknown keys). */
export const CLIENT_ONLY_KEYS: readonly string[] = ['serverPath', 'serverArgs', 'trace.server'];

/** Changing one of these restarts the server: it loads its model once, at start. */
export const RESTART_KEYS: readonly string[] = [
    'serverPath', 'serverArgs', 'model', 'device', 'backendUrl', 'backendApiKey', 'backendApiKeyEnv', 'backendModel',
    'backendFallback', 'sharedEngine',
];

/** The part of `WorkspaceConfiguration` we use (a plain object in tests). */
export interface ConfigurationLike {
    get<T>(key: string): T | undefined;
}

interface PropertySchema {
    default?: unknown;
}

/** The part of package.json we read. */
export interface PackageJsonLike {
    contributes?: { configuration?: { properties?: Record<string, PropertySchema> } };
}

export type ServerOptionsMap = Record<string, unknown>;

export interface ClientSettings {
    serverPath: string;
    serverArgs: string[];
}

function properties(pkg: PackageJsonLike): Record<string, PropertySchema> {
    const props = pkg.contributes?.configuration?.properties;
    if (!props) {
        throw new Error('package.json has no contributes.configuration.properties');
    }
    return props;
}

/** Every declared key, without the `ghostwright.` prefix, in declaration order. */
export function declaredKeys(pkg: PackageJsonLike): string[] {
    const prefix = `${SECTION}.`;
    return Object.keys(properties(pkg))
        .filter((key) => key.startsWith(prefix))
        .map((key) => key.slice(prefix.length));
}

/** The keys the server understands. */
export function serverKeys(pkg: PackageJsonLike): string[] {
    return declaredKeys(pkg).filter((key) => !CLIENT_ONLY_KEYS.includes(key));
}

/** The declared defaults of the server keys (what the Python defaults must equal). */
export function serverDefaults(pkg: PackageJsonLike): ServerOptionsMap {
    const props = properties(pkg);
    const out: ServerOptionsMap = {};
    for (const key of serverKeys(pkg)) {
        out[key] = props[`${SECTION}.${key}`].default;
    }
    return out;
}

/** `initializationOptions` (and didChangeConfiguration settings) from the configuration. */
export function toInitializationOptions(config: ConfigurationLike, pkg: PackageJsonLike): ServerOptionsMap {
    const defaults = serverDefaults(pkg);
    const out: ServerOptionsMap = {};
    for (const [key, fallback] of Object.entries(defaults)) {
        const value = config.get<unknown>(key);
        out[key] = value === undefined || value === null ? fallback : value;
    }
    return out;
}

export interface PathVariables {
    home: string;
    workspaceFolder?: string;
}

/** `~`, `${userHome}` and `${workspaceFolder}` expanded (as VS Code users write paths). */
export function expandPath(value: string, vars: PathVariables): string {
    let out = value.trim();
    if (out === '~' || out.startsWith('~/')) {
        out = vars.home + out.slice(1);
    }
    out = out.split('${userHome}').join(vars.home);
    if (vars.workspaceFolder !== undefined) {
        out = out.split('${workspaceFolder}').join(vars.workspaceFolder);
    }
    return out;
}

export function readClientSettings(config: ConfigurationLike, vars: PathVariables): ClientSettings {
    const rawPath = config.get<string>('serverPath');
    const rawArgs = config.get<unknown>('serverArgs');
    const serverPath = typeof rawPath === 'string' && rawPath.trim() ? expandPath(rawPath, vars) : 'ghostwright';
    const serverArgs = Array.isArray(rawArgs) ? rawArgs.filter((a): a is string => typeof a === 'string') : [];
    return { serverPath, serverArgs: serverArgs.map((a) => expandPath(a, vars)) };
}

/** Which of `keys` a configuration change touched, given VS Code's `affectsConfiguration`. */
export function changedKeys(keys: readonly string[], affects: (section: string) => boolean): string[] {
    return keys.filter((key) => affects(`${SECTION}.${key}`));
}
