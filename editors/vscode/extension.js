// svcc for VS Code: starts `svcc lsp` through the language client, shows
// svcc's read-only documents (standard-library presets, code pages,
// generated YAML: the `svcc:` scheme) and adds "svcc: Show generated YAML".
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

async function activate(context) {
  const config = vscode.workspace.getConfiguration("svcc");
  const command = config.get("path") || "svcc";
  const docsUrl = config.get("docsUrl");
  const serverOptions = { command, args: ["lsp"], transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "svcc" }],
    initializationOptions: docsUrl ? { docsUrl } : {},
  };
  client = new LanguageClient("svcc", "svcc", serverOptions, clientOptions);
  await client.start();

  // `svcc:` documents come from the server: `svcc/virtualDocument`.
  const provider = {
    async provideTextDocumentContent(uri) {
      const r = await client.sendRequest("svcc/virtualDocument", { uri: uri.toString(true) });
      return r.text;
    },
  };
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider("svcc", provider));

  context.subscriptions.push(
    vscode.commands.registerCommand("svcc.showGeneratedYaml", async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) return;
      const r = await client.sendRequest("workspace/executeCommand", {
        command: "svcc.showGeneratedYaml",
        arguments: [editor.document.uri.toString(), editor.selection.active],
      });
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(r.uri));
      await vscode.languages.setTextDocumentLanguage(doc, "yaml");
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    })
  );
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
