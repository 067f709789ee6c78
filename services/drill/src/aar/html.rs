//! The report as one printable page: no scripts, no external resources, every
//! string escaped, so that it can be saved, mailed and printed as it is.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::{AfterAction, EntryKind, Kind};
use crate::evaluate::Status;

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;\
margin:2em;color:#222}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #999}\
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #bbb;padding:.3em .5em;\
text-align:left;vertical-align:top}th{background:#eee}td.n{text-align:right}.meta{color:#555}\
.warn{color:#a00;font-weight:bold}@media print{body{margin:0;font-size:10pt}h2{break-after:avoid}\
tr{break-inside:avoid}th{background:none}}";

impl AfterAction {
    /// A printable, self-contained HTML page of the report, titled `title`.
    pub fn html(&self, title: &str) -> String {
        let mut page = String::new();
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
             <title>{}</title><style>{STYLE}</style></head><body>\
             <h1>演练评估报告：{}</h1><p class=\"meta\">演练 {}（{}），开始于 {}，评估于 {}，\
             读取事件 {} 条</p>",
            escape(title),
            escape(title),
            escape(&self.drill),
            escape(&self.title),
            time(self.started_at),
            time(self.now),
            self.events,
        );
        if self.truncated {
            let _ = write!(
                page,
                "<p class=\"warn\">沙盘日志超过 {} 条事件，仅评估了前 {} 条。</p>",
                super::READ_LIMIT,
                self.events
            );
        }
        self.timeline_table(&mut page);
        self.demands_table(&mut page);
        self.unmet_table(&mut page);
        self.standard_table(&mut page);
        self.tier_table(&mut page);
        self.expectations_table(&mut page);
        page.push_str("</body></html>\n");
        page
    }

    fn timeline_table(&self, page: &mut String) {
        let rows = self.timeline.iter().map(|e| {
            let kind = match e.kind {
                EntryKind::Step => "脚本步骤",
                EntryKind::ScriptedInject => "导演部注入",
                EntryKind::ContingencyInject => "应急注入",
                EntryKind::Action => "学员操作",
            };
            vec![
                self.offset(e.at),
                kind.to_owned(),
                e.who.clone(),
                e.what.clone(),
                e.description.clone(),
                e.why.clone().unwrap_or_default(),
            ]
        });
        let head = ["演练时间", "类别", "执行者", "内容", "说明", "原因"];
        table(page, "时间线", &head, rows);
    }

    fn demands_table(&self, page: &mut String) {
        let rows = self.demands.iter().map(|d| {
            vec![
                self.offset(d.recorded_at),
                d.kind.zh().to_owned(),
                d.commodity.clone(),
                d.area.clone().unwrap_or_default(),
                d.quantity.to_string(),
                d.by.clone(),
                minutes(d.minutes_to_plan),
                minutes(d.minutes_to_approval),
                minutes(d.minutes_to_arrival),
            ]
        });
        let head = [
            "登记时间",
            "类别",
            "资源",
            "区域",
            "需求量",
            "登记者",
            "方案（分钟）",
            "批准（分钟）",
            "到达（分钟）",
        ];
        table(page, "需求响应", &head, rows);
    }

    fn unmet_table(&self, page: &mut String) {
        let rows = self.unmet.iter().map(|p| {
            let mut row = vec![self.offset(p.at)];
            for kind in Kind::ALL {
                let t = p.of(kind);
                row.extend([t.demanded, t.approved, t.unmet].map(|n| n.to_string()));
            }
            row
        });
        let head = [
            "演练时间",
            "床位需求",
            "床位已批",
            "床位未满足",
            "物资需求",
            "物资已批",
            "物资未满足",
            "队伍需求",
            "队伍已批",
            "队伍未满足",
        ];
        table(page, "未满足需求", &head, rows);
    }

    fn standard_table(&self, page: &mut String) {
        let rows = self.within_standard.iter().map(|w| {
            vec![
                w.kind.zh().to_owned(),
                w.units.to_string(),
                w.within.to_string(),
                w.share
                    .map_or_else(|| "—".to_owned(), |s| format!("{:.1}%", s * 100.0)),
            ]
        });
        let head = ["类别", "调派数量", "标准内到达", "达标率"];
        table(page, "服务标准达标率", &head, rows);
    }

    fn tier_table(&self, page: &mut String) {
        let rows = self.drawn_by_tier.iter().map(|d| {
            vec![
                tier_zh(&d.tier).to_owned(),
                d.kind.zh().to_owned(),
                d.units.to_string(),
            ]
        });
        table(page, "各层级调用资源", &["层级", "类别", "数量"], rows);
    }

    fn expectations_table(&self, page: &mut String) {
        let rows = self.expectations.iter().map(|o| {
            vec![
                o.label.clone(),
                status_zh(o.status).to_owned(),
                o.due_at.map(|t| self.offset(t)).unwrap_or_default(),
                o.done_at.map(|t| self.offset(t)).unwrap_or_default(),
                minutes(o.minutes_taken),
            ]
        });
        let head = ["预期动作", "结果", "截止", "完成", "用时（分钟）"];
        table(page, "预期动作", &head, rows);
    }

    /// Drill time as `T+hh:mm` from the start.
    fn offset(&self, at: DateTime<Utc>) -> String {
        let m = (at - self.started_at).num_minutes();
        let sign = if m < 0 { "-" } else { "+" };
        format!("T{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
    }
}

fn table(page: &mut String, heading: &str, head: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let _ = write!(page, "<h2>{}</h2><table><thead><tr>", escape(heading));
    for h in head {
        let _ = write!(page, "<th>{}</th>", escape(h));
    }
    page.push_str("</tr></thead><tbody>");
    let mut empty = true;
    for row in rows {
        empty = false;
        page.push_str("<tr>");
        for cell in row {
            let numeric = !cell.is_empty()
                && cell
                    .chars()
                    .all(|c| c.is_ascii_digit() || ".%—".contains(c));
            let class = if numeric { " class=\"n\"" } else { "" };
            let _ = write!(page, "<td{class}>{}</td>", escape(&cell));
        }
        page.push_str("</tr>");
    }
    if empty {
        let _ = write!(page, "<tr><td colspan=\"{}\">无</td></tr>", head.len());
    }
    page.push_str("</tbody></table>");
}

fn minutes(m: Option<f64>) -> String {
    m.map_or_else(|| "—".to_owned(), |m| format!("{m:.0}"))
}

fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn status_zh(status: Status) -> &'static str {
    match status {
        Status::Met => "达成",
        Status::Late => "超时完成",
        Status::Missed => "未达成",
        Status::Open => "进行中",
        Status::NotStarted => "未开始",
    }
}

fn tier_zh(tier: &str) -> &str {
    match tier {
        "township" => "乡镇/街道",
        "district" => "区县",
        "region" => "区域",
        "city" => "市级",
        "beyond" => "市外",
        other => other,
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
