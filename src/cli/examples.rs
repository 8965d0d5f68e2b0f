//! `privai examples`: the example specs of `examples/`, compiled into the
//! binary so that they are there after `cargo install` too.

use super::Exit;
use std::io::Write;

/// Arguments of `privai examples`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The example to print (e.g. `seed-home.ncl`); without it, list them.
    pub name: Option<String>,
}

/// Each bundled example: its file name, what it shows, its text.
pub const EXAMPLES: &[(&str, &str, &str)] = &[
    (
        "seed-home.ncl",
        "the seed's system: a 36 GB M3 Pro MacBook serving two people's devices",
        include_str!("../../examples/seed-home.ncl"),
    ),
    (
        "minimal.toml",
        "the smallest useful spec: one Mac running Ollama with one model",
        include_str!("../../examples/minimal.toml"),
    ),
    (
        "linux-homelab.ncl",
        "a GPU server under podman, a family, a tagged NAS",
        include_str!("../../examples/linux-homelab.ncl"),
    ),
    (
        "seed-fleet.ncl",
        "the seed split over three Linux machines, applied from a laptop over SSH",
        include_str!("../../examples/seed-fleet.ncl"),
    ),
    (
        "seed-as-written.ncl",
        "the seed taken literally, mistakes included: `privai check` refuses it",
        include_str!("../../examples/seed-as-written.ncl"),
    ),
    (
        "seed-telegram.ncl",
        "the seed chatting through Telegram too, acknowledged (next to seed-home.ncl, which it imports)",
        include_str!("../../examples/seed-telegram.ncl"),
    ),
];

/// Runs `privai examples`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let Some(name) = &args.name else {
        for (name, about, _) in EXAMPLES {
            writeln!(out, "{name:<20} {about}")?;
        }
        writeln!(
            out,
            "\nStart from one: `privai examples seed-home.ncl > privai.ncl`, then `privai check`."
        )?;
        return Ok(Exit::Ok);
    };
    let wanted = name.trim_start_matches("examples/");
    match EXAMPLES
        .iter()
        .find(|(file, _, _)| *file == wanted || file.split('.').next() == Some(wanted))
    {
        Some((_, _, text)) => {
            out.write_all(text.as_bytes())?;
            Ok(Exit::Ok)
        }
        None => {
            let names: Vec<&str> = EXAMPLES.iter().map(|(name, _, _)| *name).collect();
            anyhow::bail!(
                "there is no example `{name}`; the examples are {} (`privai examples` lists them)",
                names.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EXAMPLES;

    #[test]
    fn every_file_of_the_examples_directory_is_bundled_as_written() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut bundled: Vec<String> = EXAMPLES.iter().map(|(n, _, _)| (*n).to_owned()).collect();
        bundled.sort();
        assert_eq!(files, bundled);
        for (name, _, text) in EXAMPLES {
            assert_eq!(*text, std::fs::read_to_string(dir.join(name)).unwrap());
        }
    }
}
