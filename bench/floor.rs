//! The cost floor of `svcc build DIR -o OUT`: serialising the same objects
//! to YAML and writing them in the same layout, with nothing compiled,
//! checked or validated. `bench/run.sh` compares svcc against it.
//!
//!     cargo run --release --example floor -- SVCC_OUT FLOOR_OUT
//!
//! Reads every `*.yaml` under SVCC_OUT into JSON values (not timed), then
//! times serialising them with the same serde-saphyr options svcc uses and
//! writing them under FLOOR_OUT on two threads, and prints
//! `seconds files`.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)] // a command-line tool

use std::path::{Path, PathBuf};
use std::time::Instant;

fn collect(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, serde_json::Value)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("readable output folder").flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect(base, &p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            let text = std::fs::read_to_string(&p).expect("utf-8 YAML");
            let value: serde_json::Value = serde_saphyr::from_str(&text).expect("svcc's YAML parses");
            out.push((p.strip_prefix(base).expect("under base").to_path_buf(), value));
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        eprintln!("usage: floor SVCC_OUT FLOOR_OUT");
        std::process::exit(2);
    };
    let mut objects = Vec::new();
    collect(Path::new(input), Path::new(input), &mut objects);
    let output = Path::new(output);

    let start = Instant::now();
    let mut dirs: Vec<PathBuf> = objects.iter().filter_map(|(p, _)| p.parent().map(Path::to_path_buf)).collect();
    dirs.dedup();
    for d in &dirs {
        std::fs::create_dir_all(output.join(d)).expect("creatable folder");
    }
    let write = |part: &[(PathBuf, serde_json::Value)]| {
        for (path, value) in part {
            let opts = serde_saphyr::ser_options! { prefer_block_scalars: false };
            let text = serde_saphyr::to_string_with_options(value, opts).expect("serialisable");
            std::fs::write(output.join(path), text).expect("writable file");
        }
    };
    let (a, b) = objects.split_at(objects.len() / 2);
    std::thread::scope(|s| {
        s.spawn(|| write(b));
        write(a);
    });
    println!("{:.4} {}", start.elapsed().as_secs_f64(), objects.len());
}
