//! Replays saved inputs through the target bodies on stable Rust, without
//! libFuzzer: every file under `fuzz/corpus/<target>/`,
//! `fuzz/artifacts/<target>/` and `fuzz/seeds/<target>/` that exists
//! (none of them is committed; `fuzz/seed.py` writes the seeds). With
//! `MSND_FUZZ_INPUT=<target>:<file>` only that one input is run.

use std::path::Path;

fn replay_dir(target: &str, dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        eprintln!("{target}: {}", path.display());
        assert!(msnd_fuzz::run_target(target, &data));
        n += 1;
    }
    n
}

#[test]
fn replay_saved_inputs() {
    if let Ok(spec) = std::env::var("MSND_FUZZ_INPUT") {
        let (target, file) = spec.split_once(':').expect("target:file");
        let data = std::fs::read(file).unwrap();
        assert!(msnd_fuzz::run_target(target, &data), "unknown target");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for target in msnd_fuzz::TARGETS {
        let mut n = 0;
        for dir in ["corpus", "artifacts", "seeds"] {
            n += replay_dir(target, &root.join(dir).join(target));
        }
        println!("{target}: {n} saved inputs replayed");
    }
}

#[test]
fn smoke_inputs() {
    let inputs: &[&[u8]] = &[
        b"",
        b"\0",
        b"\x10\x10\0\0VER 1 MSNP8 CVR0\r\nCVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0544 MSMSGS a@b.com\r\n",
        b"\0\0\0\0USR 3 TWN I alice@hotmail.com\r\nQRY 10 msmsgs@msnmsgr.com 32\r\n3b6666b60157322b6fc6e41a115968f5",
        b"USR 1 alice@hotmail.com 1.2.3\r\nCAL 2 bob@hotmail.com\r\nMSG 3 A 5\r\nhello\r\nOUT\r\n",
        b"MSG Hotmail Hotmail 3\r\nabcNOT 2\r\nxyADL 6 OK\r\n",
        b"Alice%20Smith ALICE@Hotmail.COM %FF%FE a%0Ab name@ \xff",
    ];
    for target in msnd_fuzz::TARGETS {
        for input in inputs {
            msnd_fuzz::run_target(target, input);
        }
    }
}
