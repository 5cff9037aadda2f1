//! `svcc adapter-rules`: the prometheus-adapter rules that serve the Pods
//! metrics the specs' HPAs ask for (`svcc::adapter`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use svcc::Options;
use svcc::adapter::{self, Layout};

use super::{
    ColorArg, CommonArgs, EXIT_OK, EXIT_SPEC_ERRORS, EXIT_USAGE_OR_IO, FormatArg, compile_read, out, print_diagnostics,
    read_args, whole_graph,
};

#[derive(Args, Debug)]
pub(super) struct AdapterArgs {
    /// Spec files, or folders to search for `*.kdl` files
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Only this environment (repeatable): one cluster's adapter
    #[arg(long = "env", value_name = "NAME")]
    environments: Vec<String>,
    /// Where the rules go: the Helm chart's values (`rules.custom`) or the adapter's config.yaml (`rules`)
    #[arg(long, value_enum, default_value_t = LayoutArg::HelmValues)]
    format: LayoutArg,
    /// When to colour diagnostics
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LayoutArg {
    HelmValues,
    Config,
}

/// Compile the specs as `svcc check` would, then print one rule per
/// metric the HPAs ask for; a problem (a spec error, two definitions of
/// one metric name) prints no rules and exits 1.
pub(super) fn adapter_command(a: &AdapterArgs) -> ExitCode {
    let args = CommonArgs {
        files: a.files.clone(),
        environments: a.environments.clone(),
        image_tag: Vec::new(),
        image_tags: None,
        format: FormatArg::Human,
        color: a.color,
        deny_warnings: false,
    };
    let read = read_args(&args, false);
    let opts = Options {
        environments: a.environments.clone(),
        check_only: true,
        whole_graph: whole_graph(&a.files),
        ..Options::default()
    };
    let mut compilation = compile_read(read, &opts, &|_| {});
    if compilation.code == EXIT_USAGE_OR_IO {
        print_diagnostics(&args, &compilation.report, false);
        return ExitCode::from(EXIT_USAGE_OR_IO);
    }
    // Without read problems the report is the results' diagnostics: build
    // it again with the conflicts the rules found.
    let rules = adapter::rules(&mut compilation.results, &a.environments);
    let report = svcc::file_diagnostics(&compilation.results);
    print_diagnostics(&args, &report, false);
    if compilation.results.iter().any(svcc::Compiled::has_errors) {
        return ExitCode::from(EXIT_SPEC_ERRORS);
    }
    let layout = match a.format {
        LayoutArg::HelmValues => Layout::HelmValues,
        LayoutArg::Config => Layout::Config,
    };
    if !out(&adapter::yaml(&rules, layout)) {
        return ExitCode::from(EXIT_USAGE_OR_IO);
    }
    ExitCode::from(EXIT_OK)
}
