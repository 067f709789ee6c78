//! `ercs drill run`: a scripted drill headless on a sandbox of its own under
//! the data directory (`drills/<drill>-<UTC time>/events.db`), with a progress
//! bar, the judged expectations printed in Chinese and the whole report
//! written to `report.json` beside it.

use std::path::Path;
use std::sync::Arc;

use ercs_drill::{RunReport, Speed, Status};
use ercs_eventlog::EventLog;
use ercs_seed::drill_script::DrillScript;

use crate::cli::DataDir;

/// Runs the drill in `script` at `speed` in a new sandbox under `data`.
pub async fn run(script: &Path, speed: Speed, data: &DataDir) -> Result<(), String> {
    let text = std::fs::read_to_string(script)
        .map_err(|e| format!("cannot read {}: {e}", script.display()))?;
    let script = DrillScript::parse(&text).map_err(|e| format!("{}: {e}", script.display()))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let dir = data
        .data_dir
        .join("drills")
        .join(format!("{}-{stamp}", script.id));
    // Always an SQLite file of its own, whatever store the live service uses.
    let sandbox = DataDir {
        store: None,
        data_dir: dir.clone(),
        group_readable: data.group_readable,
    };
    let log: Arc<dyn EventLog> = Arc::new(sandbox.open_log().map_err(|e| e.to_string())?);
    println!("演练「{}」：沙盘 {}", script.title.zh, dir.display());
    let (report, after_action) = ercs_drill::run_with_after_action(
        &script,
        log,
        speed,
        &crate::seeding::terminal_bar("演练 {bar:40} {pos}/{len} 步 ({elapsed})"),
    )
    .await
    .map_err(|e| e.to_string())?;
    let write = |name: &str, bytes: Vec<u8>| {
        std::fs::write(dir.join(name), bytes)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    };
    write(
        "report.json",
        serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?,
    )?;
    write(
        "aar.json",
        serde_json::to_vec_pretty(&after_action).map_err(|e| e.to_string())?,
    )?;
    write("aar.html", after_action.html(&script.title.zh).into_bytes())?;
    print!("{}", summary(&report));
    println!("演练评估报告（可打印）：{}", dir.join("aar.html").display());
    Ok(())
}

/// `ercs drill list`: every run under the data directory, newest first.
pub fn list(data: &DataDir) -> Result<(), String> {
    let mut runs = runs(data)?;
    runs.sort_by(|a, b| b.0.cmp(&a.0));
    if runs.is_empty() {
        println!("{} 下没有演练记录", drills_dir(data).display());
    }
    for (id, report) in runs {
        let line = match report {
            Some(report) => {
                let count = |status: Status| {
                    (report.expectations.iter())
                        .filter(|o| o.status == status)
                        .count()
                };
                format!(
                    "{id}  {}  {} 步  预期动作：按时 {}，超时 {}，未完成 {}",
                    report.title,
                    report.steps,
                    count(Status::Met),
                    count(Status::Late),
                    count(Status::Missed)
                )
            }
            None => match hosted(data, &id) {
                Some(record) => format!(
                    "{id}  {}  服务托管的演练：已执行 {} 步，演练时间 {}（GET /api/v1/drills/{id}）",
                    record.title,
                    record.progress.next_step,
                    record.clock.now(record.saved_at).format("%Y-%m-%d %H:%M"),
                ),
                None => format!("{id}  （未完成或没有报告）"),
            },
        };
        println!("{line}");
    }
    Ok(())
}

/// `ercs drill report ID`: one run's summary, or its whole report as JSON.
pub fn report(data: &DataDir, id: &str, json: bool) -> Result<(), String> {
    let path = run_dir(data, id)?.join("report.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("no report for drill run {id:?} ({}): {e}", path.display()))?;
    if json {
        println!("{text}");
        return Ok(());
    }
    let report: RunReport = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a drill report: {e}", path.display()))?;
    print!("{}", summary(&report));
    Ok(())
}

/// `ercs drill delete ID`: removes the run's sandbox and report.
pub fn delete(data: &DataDir, id: &str) -> Result<(), String> {
    let dir = run_dir(data, id)?;
    // A drill the service hosts is deleted through it, not under it.
    if hosted(data, id).is_some()
        && ercs_eventlog::SqliteEventLog::open(dir.join("events.db")).is_err()
    {
        return Err(format!(
            "drill {id} is hosted by a running service, which holds its sandbox; delete it there \
             (DELETE /api/v1/drills/{id})"
        ));
    }
    std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot delete {}: {e}", dir.display()))?;
    println!("已删除演练记录 {id}");
    Ok(())
}

/// The record of a drill the service hosts (`drill.json`), if `id` is one.
fn hosted(data: &DataDir, id: &str) -> Option<crate::drills::Record> {
    let text = std::fs::read_to_string(drills_dir(data).join(id).join("drill.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn drills_dir(data: &DataDir) -> std::path::PathBuf {
    data.data_dir.join("drills")
}

/// The directory of run `id`, refused unless it is one of the runs (so an id
/// cannot name a path outside the drills directory).
fn run_dir(data: &DataDir, id: &str) -> Result<std::path::PathBuf, String> {
    let known = runs(data)?.into_iter().any(|(run, _)| run == id);
    if !known {
        return Err(format!(
            "no drill run {id:?} under {}; `ercs drill list` shows them",
            drills_dir(data).display()
        ));
    }
    Ok(drills_dir(data).join(id))
}

/// Every run's id (its directory name) and report, if it has one.
fn runs(data: &DataDir) -> Result<Vec<(String, Option<RunReport>)>, String> {
    let dir = drills_dir(data);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut runs = Vec::new();
    for entry in entries.flatten() {
        if !entry.path().is_dir() {
            continue;
        }
        let id = entry.file_name().to_string_lossy().into_owned();
        let report = std::fs::read_to_string(entry.path().join("report.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        runs.push((id, report));
    }
    Ok(runs)
}

/// The report as a drill director reads it at the end of a run.
pub fn summary(report: &RunReport) -> String {
    let mut text = format!(
        "演练「{}」完成：{} 个步骤（{} 个被拒绝），写入 {} 个事件，演练时间 {} 至 {}，用时 {:.1} 秒\n",
        report.title,
        report.steps,
        report.refused.len(),
        report.events,
        report.started_at.format("%Y-%m-%d %H:%M"),
        report.ended_at.format("%Y-%m-%d %H:%M"),
        report.wall_seconds
    );
    for refused in &report.refused {
        let which = refused
            .step
            .map_or_else(|| "补充情况".to_owned(), |n| format!("第 {} 步", n + 1));
        text.push_str(&format!(
            "  被拒绝：{which}「{}」：{}\n",
            refused.label.as_deref().unwrap_or("（无标签）"),
            refused.reason
        ));
    }
    for fired in &report.fired {
        text.push_str(&format!(
            "  已下达补充情况「{}」（{}，因「{}」未完成）\n",
            fired.label,
            fired.at.format("%Y-%m-%d %H:%M"),
            fired.because
        ));
    }
    if !report.expectations.is_empty() {
        text.push_str("预期处置动作：\n");
    }
    for outcome in &report.expectations {
        let status = match outcome.status {
            Status::Met => "按时完成",
            Status::Late => "超时完成",
            Status::Missed => "未完成",
            Status::Open => "进行中",
            Status::NotStarted => "未触发",
        };
        text.push_str(&format!("  [{status}] {}", outcome.label));
        if let Some(minutes) = outcome.minutes_taken {
            text.push_str(&format!("（用时 {minutes} 分钟）"));
        }
        if let Some(inject) = &outcome.contingency {
            text.push_str(&format!("；补充情况「{inject}」"));
        }
        text.push('\n');
    }
    text
}
