//! `svcc lsp`: a language server over any [`Connection`] (the CLI gives it
//! stdio). Built on rust-analyzer's `lsp-server` scaffold: synchronous,
//! one thread, messages handled in order, no async runtime.
//!
//! Every edit runs the spec through the pipeline ([`crate::Session::run`],
//! as `svcc check` does) and publishes its diagnostics; completion and
//! hover read the node tables ([`crate::decode::node`]) and the last run
//! (provenance, plans); quick fixes are the fixes diagnostics carry
//! ([`crate::diagnostic::Fix`]). The workspace owns one [`crate::Session`],
//! so what runs share is bounded by it.

mod complete;
mod cursor;
mod hover;
mod navigate;
mod text;
mod workspace;

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use serde_json::{Value, json};

pub use text::{path_of, uri_of};
use workspace::{Doc, Workspace};

/// The command that shows the YAML svcc generates for the service and
/// environment under the cursor.
pub const SHOW_YAML: &str = "svcc.showGeneratedYaml";

/// The request that reads a `svcc:` virtual document (a standard-library
/// preset, a code's page, generated YAML): `{ "uri" }` → `{ "text" }`.
pub const VIRTUAL_DOCUMENT: &str = "svcc/virtualDocument";

/// Serve one client until it shuts down (`Ok`) or the connection breaks.
/// `exit` without `shutdown` is an error, as the protocol says.
pub fn serve(connection: &Connection) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: lsp::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let root = root_of(&params);
    let docs_base = params
        .initialization_options
        .as_ref()
        .and_then(|o| o.get("docsUrl"))
        .and_then(Value::as_str)
        .map_or_else(|| "svcc:/docs/codes/".to_string(), str::to_string);
    let result = json!({
        "capabilities": capabilities(),
        "serverInfo": { "name": "svcc", "version": env!("CARGO_PKG_VERSION") },
    });
    connection.initialize_finish(id, result).map_err(|e| e.to_string())?;
    let mut server = Server { ws: Workspace::new(root, docs_base), conn: connection, pending: VecDeque::new() };
    server.main_loop()
}

/// The workspace root: the first folder the client names, else its root
/// URI, else the current folder.
fn root_of(params: &lsp::InitializeParams) -> PathBuf {
    #[allow(deprecated)]
    let root_uri = params.root_uri.as_ref();
    let folder = params.workspace_folders.as_ref().and_then(|f| f.first()).map(|f| &f.uri).or(root_uri);
    let root = folder.and_then(path_of).or_else(|| std::env::current_dir().ok()).unwrap_or_else(|| PathBuf::from("/"));
    root.canonicalize().unwrap_or(root)
}

fn capabilities() -> Value {
    let caps = lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(lsp::TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
            save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
            ..Default::default()
        })),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["=".into(), "\"".into(), " ".into()]),
            ..Default::default()
        }),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(lsp::CodeActionOptions {
            code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
            ..Default::default()
        })),
        execute_command_provider: Some(lsp::ExecuteCommandOptions {
            commands: vec![SHOW_YAML.into()],
            ..Default::default()
        }),
        ..Default::default()
    };
    serde_json::to_value(caps).unwrap_or(Value::Null)
}

struct Server<'c> {
    ws: Workspace,
    conn: &'c Connection,
    /// Messages read ahead while coalescing edits.
    pending: VecDeque<Message>,
}

/// A request's answer: a result, or an error code and message.
type Answer = Result<Value, (ErrorCode, String)>;

impl Server<'_> {
    fn main_loop(&mut self) -> Result<(), String> {
        loop {
            let msg = match self.pending.pop_front() {
                Some(m) => m,
                None => match self.conn.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => return Err("the client closed the connection without `exit`".into()),
                },
            };
            match msg {
                Message::Request(req) => {
                    if self.conn.handle_shutdown(&req).map_err(|e| e.to_string())? {
                        return Ok(());
                    }
                    self.request(req);
                }
                Message::Notification(n) if n.method == lsp::notification::Exit::METHOD => {
                    return Err("`exit` before `shutdown`".into());
                }
                Message::Notification(n) => self.notification(n),
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, msg: Message) {
        // A closed connection ends the loop at the next receive.
        let _ = self.conn.sender.send(msg);
    }

    fn request(&mut self, req: Request) {
        let id = req.id.clone();
        let method = req.method.clone();
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.answer(&req)))
            .unwrap_or_else(|_| Err((ErrorCode::InternalError, format!("svcc failed while answering `{method}`"))));
        let resp = match answer {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        self.send(Message::Response(resp));
    }

    fn answer(&mut self, req: &Request) -> Answer {
        use lsp::request as r;
        let p = &req.params;
        match req.method.as_str() {
            r::Completion::METHOD => json_of(complete::completion(&self.ws, params(p)?)),
            r::HoverRequest::METHOD => json_of(hover::hover(&self.ws, params(p)?)),
            r::GotoDefinition::METHOD => json_of(navigate::definition(&self.ws, params(p)?)),
            r::DocumentSymbolRequest::METHOD => json_of(navigate::symbols(&self.ws, params(p)?)),
            r::Formatting::METHOD => json_of(navigate::formatting(&self.ws, params(p)?)),
            r::CodeActionRequest::METHOD => json_of(navigate::code_actions(params(p)?)),
            r::ExecuteCommand::METHOD => navigate::execute(&self.ws, params(p)?),
            VIRTUAL_DOCUMENT => navigate::virtual_document(&self.ws, p),
            m => Err((ErrorCode::MethodNotFound, format!("svcc does not handle `{m}`"))),
        }
    }

    fn notification(&mut self, n: Notification) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.notify(&n)));
        if outcome.is_err() {
            self.log(&format!("svcc failed while handling `{}`", n.method));
        }
    }

    fn notify(&mut self, n: &Notification) {
        use lsp::notification as nt;
        match n.method.as_str() {
            nt::DidOpenTextDocument::METHOD => {
                let Ok(p) = params::<lsp::DidOpenTextDocumentParams>(&n.params) else { return };
                let Some(path) = file_path(&p.text_document.uri) else { return };
                self.ws.docs.insert(path.clone(), Doc { text: p.text_document.text, version: p.text_document.version });
                self.refresh(BTreeSet::from([path]));
            }
            nt::DidChangeTextDocument::METHOD => {
                let mut dirty = BTreeSet::new();
                self.apply_change(&n.params, &mut dirty);
                // Coalesce the edits already waiting: one run for a burst of typing.
                while let Ok(next) = self.conn.receiver.try_recv() {
                    match next {
                        Message::Notification(m) if m.method == nt::DidChangeTextDocument::METHOD => {
                            self.apply_change(&m.params, &mut dirty);
                        }
                        other => {
                            self.pending.push_back(other);
                            break;
                        }
                    }
                }
                self.refresh(dirty);
            }
            nt::DidCloseTextDocument::METHOD => {
                let Ok(p) = params::<lsp::DidCloseTextDocumentParams>(&n.params) else { return };
                let Some(path) = file_path(&p.text_document.uri) else { return };
                self.ws.docs.remove(&path);
                let dependents = self.ws.dependents(&path);
                let changed = self.ws.forget(&path);
                self.publish(changed);
                self.refresh(dependents.into_iter().collect());
            }
            nt::DidSaveTextDocument::METHOD | nt::DidChangeWatchedFiles::METHOD => {
                // The disk changed: every run may read it.
                let all: BTreeSet<PathBuf> = self.ws.docs.keys().cloned().collect();
                self.refresh(all);
            }
            _ => {}
        }
    }

    fn apply_change(&mut self, raw: &Value, dirty: &mut BTreeSet<PathBuf>) {
        let Ok(p) = params::<lsp::DidChangeTextDocumentParams>(raw) else { return };
        let Some(path) = file_path(&p.text_document.uri) else { return };
        let Some(doc) = self.ws.docs.get_mut(&path) else { return };
        for c in &p.content_changes {
            text::apply_change(&mut doc.text, c);
        }
        doc.version = p.text_document.version;
        dirty.insert(path);
    }

    /// Run the files in `dirty`, then the open files that read them, and
    /// publish what changed.
    fn refresh(&mut self, dirty: BTreeSet<PathBuf>) {
        let mut order: Vec<PathBuf> = dirty.iter().cloned().collect();
        for p in &dirty {
            for d in self.ws.dependents(p) {
                if !order.contains(&d) {
                    order.push(d);
                }
            }
        }
        let mut changed = BTreeSet::new();
        for p in &order {
            changed.extend(self.ws.analyze(p));
        }
        self.publish(changed);
    }

    fn publish(&self, files: BTreeSet<PathBuf>) {
        for f in files {
            let Some(uri) = uri_of(&f) else { continue };
            let version = self.ws.docs.get(&f).map(|d| d.version);
            let p = lsp::PublishDiagnosticsParams { uri, diagnostics: self.ws.published(&f), version };
            let method = lsp::notification::PublishDiagnostics::METHOD.to_string();
            self.send(Message::Notification(Notification { method, params: json_or_null(&p) }));
        }
    }

    fn log(&self, message: &str) {
        let p = lsp::LogMessageParams { typ: lsp::MessageType::ERROR, message: message.to_string() };
        let method = lsp::notification::LogMessage::METHOD.to_string();
        self.send(Message::Notification(Notification { method, params: json_or_null(&p) }));
    }
}

/// The path of an open document (canonical when it exists on disk, so it
/// matches the names runs give the files they read).
pub(crate) fn file_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let p = path_of(uri)?;
    Some(canonical(&p))
}

fn canonical(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    // A new file: its folder may exist.
    match (p.parent().and_then(|d| d.canonicalize().ok()), p.file_name()) {
        (Some(d), Some(f)) => d.join(f),
        _ => p.to_path_buf(),
    }
}

fn params<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, (ErrorCode, String)> {
    serde_json::from_value(v.clone()).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn json_of<T: serde::Serialize>(v: T) -> Answer {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

fn json_or_null<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
