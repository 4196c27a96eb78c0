//! The program end to end: the default run, `produce`, `replay`, and a corrupted file.

use std::process::Command;

fn program() -> Command {
    Command::new(env!("CARGO_BIN_EXE_banking-stage"))
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().expect("the program runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn the_default_run_verifies_its_blocks() {
    let (ok, text) = run(program().args(["--transactions", "400", "--bench-units", "500"]));
    assert!(ok, "{text}");
    assert!(
        text.contains("matches") && text.contains("conserved"),
        "{text}"
    );
}

#[test]
fn produce_then_replay_a_block_file() {
    let directory = std::env::temp_dir().join(format!("banking-stage-cli-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let file = directory.join("chain.blocks");
    let trace = directory.join("trace.json");
    let (ok, text) = run(program()
        .args([
            "produce",
            "--transactions",
            "400",
            "--bench-units",
            "500",
            "--pattern",
            "hotspot",
        ])
        .arg("--out")
        .arg(&file));
    assert!(ok, "{text}");
    let (ok, text) = run(program()
        .arg("replay")
        .arg(&file)
        .args(["--workers", "3", "--trace"])
        .arg(&trace));
    assert!(ok, "{text}");
    assert!(text.contains("every bank hash matches"), "{text}");
    let (ok, text) = run(program().arg("replay").arg(&file).arg("--sequential"));
    assert!(ok, "{text}");
    assert!(text.contains("block hashes match"), "{text}");
    let trace_text = std::fs::read_to_string(&trace).unwrap();
    assert!(trace_text.starts_with("{\"displayTimeUnit\"") && trace_text.contains("\"ph\":\"X\""));
    // A flipped byte is a clear error and a non-zero exit, not a panic.
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let (ok, text) = run(program().arg("replay").arg(&file));
    assert!(!ok);
    assert!(
        text.contains("corrupted") && !text.contains("panicked"),
        "{text}"
    );
    std::fs::remove_dir_all(&directory).unwrap();
}

#[test]
fn bad_flags_are_refused_with_a_message() {
    for arguments in [
        vec!["--workers", "0"],
        vec!["--pattern", "zipf:0"],
        vec!["--slots", "0"],
        vec!["replay", "/nonexistent/file"],
        vec![
            "replay",
            "/nonexistent/file",
            "--sequential",
            "--trace",
            "t.json",
        ],
        vec![
            "replay",
            "/nonexistent/file",
            "--sequential",
            "--trace",
            "t.json",
        ],
    ] {
        let (ok, text) = run(program().args(&arguments));
        assert!(!ok, "{arguments:?}");
        assert!(!text.contains("panicked"), "{arguments:?}: {text}");
    }
}

#[test]
fn a_ledger_run_stopped_after_one_slot_resumes_and_replays_from_genesis() {
    let ledger =
        std::env::temp_dir().join(format!("banking-stage-cli-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ledger);
    let flags = ["--transactions", "3000", "--bench-units", "20000"];
    let (ok, text) = run(program()
        .args(flags)
        .args(["--slots", "1"])
        .arg("--ledger")
        .arg(&ledger));
    assert!(ok, "{text}");
    assert!(
        text.contains("(new)") && text.contains("still buffered"),
        "{text}"
    );
    // The same run again: it resumes after slot 1, and what slot 1 committed is
    // already processed.
    let (ok, text) = run(program().args(flags).arg("--ledger").arg(&ledger));
    assert!(ok, "{text}");
    assert!(text.contains("resumed at slot 1"), "{text}");
    assert!(
        text.contains("conserved") && text.contains("matches"),
        "{text}"
    );
    let (ok, text) = run(program()
        .arg("replay")
        .arg(&ledger)
        .args(["--workers", "2"]));
    assert!(ok, "{text}");
    assert!(text.contains("every bank hash matches"), "{text}");
    // Another chain's flags on the same ledger are refused.
    let (ok, text) = run(program().args(["--seed", "7"]).arg("--ledger").arg(&ledger));
    assert!(!ok && text.contains("another chain"), "{text}");
    std::fs::remove_dir_all(&ledger).unwrap();
}

#[test]
fn a_ledger_run_killed_at_random_moments_resumes_and_verifies() {
    let ledger =
        std::env::temp_dir().join(format!("banking-stage-cli-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ledger);
    // Short slots: many commits for a kill to land in.
    let flags = [
        "--transactions",
        "4000",
        "--bench-units",
        "2000",
        "--slot-ms",
        "4",
        "--no-verify",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut kills = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    while kills < 12 && std::time::Instant::now() < deadline {
        let mut child = program()
            .args(flags)
            .arg("--ledger")
            .arg(&ledger)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(std::time::Duration::from_millis(20 + seed % 180));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        kills += 1;
    }
    assert!(kills >= 3, "only {kills} kills in time");
    // A run to the end resumes where the kills left it, and the ledger verifies.
    let (ok, text) = run(program().args(flags).arg("--ledger").arg(&ledger));
    assert!(ok, "{text}");
    assert!(text.contains("conserved"), "{text}");
    let (ok, text) = run(program().arg("replay").arg(&ledger).arg("--sequential"));
    assert!(ok, "{text}");
    assert!(text.contains("block hashes match"), "{text}");
    std::fs::remove_dir_all(&ledger).unwrap();
}
