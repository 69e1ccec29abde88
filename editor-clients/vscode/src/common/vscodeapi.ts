/**
 * The VS Code API calls the extension makes, behind one thin seam (as ruff-vscode does):
 * the rest of the code can be read, and replaced in tests, without the `vscode` module.
 */

import {
    commands,
    ConfigurationScope,
    ConfigurationTarget,
    Disposable,
    LogOutputChannel,
    StatusBarAlignment,
    StatusBarItem,
    Uri,
    ViewColumn,
    window,
    workspace,
    WorkspaceConfiguration,
    WorkspaceFolder,
} from 'vscode';

export function createOutputChannel(name: string): LogOutputChannel {
    return window.createOutputChannel(name, { log: true });
}

export function createStatusBarItem(id: string, name: string): StatusBarItem {
    const item = window.createStatusBarItem(id, StatusBarAlignment.Right, 100);
    item.name = name;
    return item;
}

export function getConfiguration(section: string, scope?: ConfigurationScope): WorkspaceConfiguration {
    return workspace.getConfiguration(section, scope);
}

export async function updateSetting(section: string, key: string, value: unknown): Promise<void> {
    const config = workspace.getConfiguration(section);
    const where = config.inspect(key);
    const target = where?.workspaceFolderValue !== undefined ? ConfigurationTarget.WorkspaceFolder
        : where?.workspaceValue !== undefined ? ConfigurationTarget.Workspace : ConfigurationTarget.Global;
    await config.update(key, value, target);
}

export function registerCommand(command: string, callback: (...args: any[]) => any): Disposable {
    return commands.registerCommand(command, callback);
}

export function executeCommand<T>(command: string, ...rest: unknown[]): Thenable<T> {
    return commands.executeCommand<T>(command, ...rest);
}

export const onDidChangeConfiguration = workspace.onDidChangeConfiguration;

export function getWorkspaceFolders(): readonly WorkspaceFolder[] {
    return workspace.workspaceFolders ?? [];
}

export function showErrorMessage(message: string, ...items: string[]): Thenable<string | undefined> {
    return window.showErrorMessage(message, ...items);
}

export function showWarningMessage(message: string, ...items: string[]): Thenable<string | undefined> {
    return window.showWarningMessage(message, ...items);
}

export function showInformationMessage(message: string, ...items: string[]): Thenable<string | undefined> {
    return window.showInformationMessage(message, ...items);
}

export function showInputBox(prompt: string, placeHolder: string): Thenable<string | undefined> {
    return window.showInputBox({ prompt, placeHolder, ignoreFocusOut: true });
}

export function activeTextEditor() {
    return window.activeTextEditor;
}

/** Read-only documents for answers: unlike an untitled document, closing one asks nothing. */
const ANSWER_SCHEME = 'ghostwright-answer';
const answers = new Map<string, string>();
let answerCount = 0;

export function registerAnswerDocuments(): Disposable {
    return workspace.registerTextDocumentContentProvider(ANSWER_SCHEME, {
        provideTextDocumentContent: (uri) => answers.get(uri.toString()) ?? '',
    });
}

export async function showMarkdown(title: string, content: string): Promise<void> {
    answerCount += 1;
    const safe = title.replace(/[^\w .?-]+/g, ' ').trim().slice(0, 60) || 'answer';
    const uri = Uri.from({ scheme: ANSWER_SCHEME, path: `/${answerCount} ${safe}.md` });
    answers.set(uri.toString(), content);
    const doc = await workspace.openTextDocument(uri);
    await window.showTextDocument(doc, { viewColumn: ViewColumn.Beside, preview: true });
}

export function openSettings(query: string): Thenable<unknown> {
    return commands.executeCommand('workbench.action.openSettings', query);
}

export function uriToString(uri: Uri): string {
    return uri.toString();
}
