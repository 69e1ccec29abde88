/** Ghostwright for VS Code: starts `ghostwright serve` and shows its inline suggestions. */

import { ExtensionContext } from 'vscode';
import { registerCommands } from './common/commands';
import { EXTENSION_NAME } from './common/constants';
import { Controller } from './common/controller';
import { registerLogger, traceInfo } from './common/logger';
import { PackageJsonLike } from './common/settings';
import { createOutputChannel, onDidChangeConfiguration, registerAnswerDocuments } from './common/vscodeapi';

let controller: Controller | undefined;

export async function activate(context: ExtensionContext): Promise<void> {
    const channel = createOutputChannel(EXTENSION_NAME);
    context.subscriptions.push(channel, registerLogger(channel), registerAnswerDocuments());
    const pkg = context.extension.packageJSON as PackageJsonLike & { version?: string };
    traceInfo(`Ghostwright extension ${pkg.version ?? ''} activating`);

    controller = new Controller(channel, pkg);
    const current = controller;
    context.subscriptions.push(
        ...registerCommands(current),
        onDidChangeConfiguration((event) => current.onConfigurationChanged(event)),
    );
    await current.start();
}

export async function deactivate(): Promise<void> {
    await controller?.dispose();
    controller = undefined;
}
