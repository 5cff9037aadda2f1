//! `svcc graph`: the service graph of the specs given, as DOT, Mermaid or
//! SVG (through Graphviz's `dot`, when it is installed).

use std::io::Write;
use std::process::{ExitCode, Stdio};

use svcc::Options;
use svcc::diagnostic::render::FileDiagnostics;
use svcc::diagnostic::{Code, Diagnostic};
use svcc::graph::{self, Format};

use super::{
    CommonArgs, EXIT_OK, EXIT_SPEC_ERRORS, EXIT_USAGE_OR_IO, FormatArg, GraphArgs, GraphFormatArg, compile_read, out,
    print_diagnostics, read_args, whole_graph,
};

/// Compile the specs as `svcc check` would (no tag needed, nothing
/// written), then draw every service that compiled; the graph check's
/// diagnostics go to standard error, and an error still draws (a call to a
/// missing service is worth seeing) but exits 1.
pub(super) fn graph_command(g: &GraphArgs) -> ExitCode {
    let args = CommonArgs {
        files: g.files.clone(),
        environments: g.environments.clone(),
        image_tag: Vec::new(),
        image_tags: None,
        format: FormatArg::Human,
        color: g.color,
        deny_warnings: false,
    };
    let read = read_args(&args, false);
    let opts = Options {
        environments: g.environments.clone(),
        check_only: true,
        whole_graph: whole_graph(&g.files),
        ..Options::default()
    };
    let compilation = compile_read(read, &opts, &|_| {});
    print_diagnostics(&args, &compilation.report, false);
    if compilation.code == EXIT_USAGE_OR_IO {
        return ExitCode::from(EXIT_USAGE_OR_IO);
    }
    let services: Vec<graph::Service> = compilation.results.iter().filter_map(|r| r.graph.clone()).collect();
    let text = match g.format {
        GraphFormatArg::Dot => graph::render(&services, &g.environments, Format::Dot),
        GraphFormatArg::Mermaid => graph::render(&services, &g.environments, Format::Mermaid),
        GraphFormatArg::Svg => match svg(&graph::render(&services, &g.environments, Format::Dot)) {
            Ok(svg) => svg,
            Err(d) => {
                print_diagnostics(&args, &[FileDiagnostics::without_source(None, vec![*d])], false);
                return ExitCode::from(EXIT_USAGE_OR_IO);
            }
        },
    };
    if !out(&text) {
        return ExitCode::from(EXIT_USAGE_OR_IO);
    }
    ExitCode::from(if compilation.code == EXIT_OK { EXIT_OK } else { EXIT_SPEC_ERRORS })
}

/// The DOT text rendered by Graphviz's `dot -Tsvg`.
fn svg(dot: &str) -> Result<String, Box<Diagnostic>> {
    let failed = |why: String| Box::new(Diagnostic::error(Code::InvalidArgument, why));
    let mut child = match std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Box::new(failed("`--format svg` runs Graphviz's `dot`, which is not installed".into()).help(
                "install Graphviz (`apt-get install graphviz`, `brew install graphviz`), or print `--format dot` or `--format mermaid`",
            )));
        }
        Err(e) => return Err(failed(format!("cannot run Graphviz's `dot`: {e}"))),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(dot.as_bytes()).map_err(|e| failed(format!("cannot write to `dot`: {e}")))?;
    }
    let o = child.wait_with_output().map_err(|e| failed(format!("`dot` failed: {e}")))?;
    if !o.status.success() {
        let why = String::from_utf8_lossy(&o.stderr).trim().to_string();
        return Err(failed(format!("`dot -Tsvg` failed: {why}")));
    }
    String::from_utf8(o.stdout).map_err(|_| failed("`dot -Tsvg` wrote something that is not UTF-8".into()))
}
