//! `ercs drill run`, run as a drill director runs it: the real binary on the
//! shipped 万州 drill, as fast as possible, into a sandbox under the data
//! directory; the live log there is left as it was.

use std::process::Command;

#[test]
fn a_seed_drill_runs_headless_into_its_own_sandbox_and_reports_in_chinese() {
    let data = tempfile::tempdir().unwrap();
    let live = data.path().join("events.db");
    std::fs::write(&live, b"not opened by a drill").unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../seeds/drills/wanzhou-respiratory-outbreak.json"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_ercs"))
        .args(["drill", "run", script, "--speed", "max", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("（0 个被拒绝）"), "{stdout}");
    assert!(
        stdout.contains("[未完成] 调派后 2 小时内") && stdout.contains("team-delayed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("已下达补充情况「万州区突发急性传染病防控队未按时到达"),
        "{stdout}"
    );
    assert_eq!(std::fs::read(&live).unwrap(), b"not opened by a drill");
    let runs: Vec<_> = std::fs::read_dir(data.path().join("drills"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let [run] = runs.as_slice() else {
        panic!("one sandbox: {runs:?}")
    };
    assert!(run.join("events.db").exists());
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["drill"], "wanzhou-respiratory-outbreak");
    assert_eq!(report["expectations"][1]["status"], "missed");
    // And the after-action report, as data and as a page to print.
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("aar.json")).unwrap()).unwrap();
    assert!(after["timeline"].as_array().unwrap().len() >= 47, "{after}");
    let page = std::fs::read_to_string(run.join("aar.html")).unwrap();
    assert!(page.contains("演练评估报告"), "{page}");
    assert!(stdout.contains("aar.html"), "{stdout}");

    // The run is listed, its report read back, and deleted.
    let ercs = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ercs"))
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .output()
            .unwrap()
    };
    let id = run.file_name().unwrap().to_str().unwrap().to_owned();
    let listed = ercs(&["drill", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains(&id) && listed.contains("未完成 1"),
        "{listed}"
    );
    let again = ercs(&["drill", "report", &id]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("[未完成] 调派后 2 小时内"));
    let outside = ercs(&["drill", "report", "../.."]);
    assert_eq!(outside.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&outside.stderr).contains("ercs drill list"));
    assert!(ercs(&["drill", "delete", &id]).status.success());
    assert!(!run.exists());
    assert_eq!(std::fs::read(&live).unwrap(), b"not opened by a drill");

    let refused = Command::new(env!("CARGO_BIN_EXE_ercs"))
        .args(["drill", "run", script, "--speed", "0"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("must be above 0"));
}
