//! What the command line shows: the plan, progress (a bar on a terminal, plain lines otherwise)
//! and the result.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use oxdrop_core::plan::{ExclusionReason, FileStatus, Plan};
use oxdrop_core::upload::{FileState, Phase, ProgressSink, ProgressSnapshot, UploadOutcome};

use crate::exit::Exit;

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn print_plan(plan: &Plan, json: bool) {
    let t = &plan.totals;
    if json {
        return;
    }
    eprintln!(
        "Plan for {}/{} ({}): {} new ({}), {} to overwrite ({}), {} unchanged, {} refused{}",
        plan.repo,
        plan.branch,
        if plan.dest.is_root() {
            "top level".to_owned()
        } else {
            plan.dest.to_string()
        },
        t.new_files,
        human_bytes(t.new_bytes),
        t.overwrite_files,
        human_bytes(t.overwrite_bytes),
        t.unchanged_files,
        t.refused,
        if t.excluded > 0 {
            format!(", {} left out", t.excluded)
        } else {
            String::new()
        }
    );
    if plan.files.len() <= 20 {
        for f in &plan.files {
            let word = match f.status {
                FileStatus::New => "new",
                FileStatus::Overwrite => "overwrite",
                FileStatus::Unchanged => "unchanged",
            };
            eprintln!("  {word:<9}  {}  ({})", f.remote, human_bytes(f.size));
        }
    }
    for r in &plan.refused {
        eprintln!("  refused    {}", r.message);
    }
    for e in &plan.excluded {
        eprintln!("  left out   {}", e.message);
    }
    if plan
        .excluded
        .iter()
        .any(|e| e.reason == ExclusionReason::LinkOutside)
    {
        eprintln!("  (add --follow-links to upload what links outside the folder point to)");
    }
    for note in &plan.notes {
        eprintln!("  note: {note}");
    }
}

pub struct Display {
    bar: Option<ProgressBar>,
    json: bool,
    last_line: Mutex<Option<Instant>>,
}

impl Display {
    pub fn new(plan: &Plan, json: bool) -> Display {
        let total: u64 = plan.to_send().map(|(_, f)| f.size).sum();
        Display::with_total(Some(total), json)
    }

    pub fn plain(json: bool) -> Display {
        Display::with_total(None, json)
    }

    fn with_total(total: Option<u64>, json: bool) -> Display {
        let bar = (std::io::stderr().is_terminal() && !json).then(|| {
            let bar = ProgressBar::new(total.unwrap_or(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Display {
            bar,
            json,
            last_line: Mutex::new(None),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn phase_word(p: Phase) -> &'static str {
    match p {
        Phase::Preparing => "Preparing",
        Phase::Sending => "Sending",
        Phase::Committing => "Committing",
        Phase::Cancelling => "Cancelling",
        Phase::Finished => "Finished",
    }
}

impl ProgressSink for Display {
    fn progress(&self, s: ProgressSnapshot) {
        for f in s.files.iter().filter(|f| f.state == FileState::Failed) {
            let line = format!(
                "failed: {}",
                f.message.as_deref().unwrap_or("unknown reason")
            );
            match &self.bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
        if let Some(bar) = &self.bar {
            bar.set_length(s.bytes_total);
            bar.set_position(s.bytes_done);
            let msg = match &s.notice {
                Some(n) => n.clone(),
                None => format!(
                    "{} {}/{} files",
                    phase_word(s.phase),
                    s.files_done,
                    s.files_total
                ),
            };
            bar.set_message(msg);
            return;
        }
        if self.json {
            return;
        }
        // Plain lines, at most every two seconds (and at each phase change).
        let mut last = oxdrop_core::sync::lock(&self.last_line);
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_secs(2));
        if due || matches!(s.phase, Phase::Committing | Phase::Finished) {
            *last = Some(Instant::now());
            eprintln!(
                "{}: {}/{} files, {} of {}{}{}",
                phase_word(s.phase),
                s.files_done,
                s.files_total,
                human_bytes(s.bytes_done),
                human_bytes(s.bytes_total),
                if s.bytes_per_sec > 0 {
                    format!(", {}/s", human_bytes(s.bytes_per_sec))
                } else {
                    String::new()
                },
                s.notice.map(|n| format!(" — {n}")).unwrap_or_default()
            );
        }
    }
}

pub fn print_outcome(outcome: &UploadOutcome, json: bool) -> Exit {
    if json {
        println!(
            "{}",
            serde_json::to_string(outcome).unwrap_or_else(|_| "{}".into())
        );
    } else {
        println!(
            "Committed {} to {}: {} files ({}){}",
            &outcome.commit.id,
            outcome.branch,
            outcome.files_sent,
            human_bytes(outcome.bytes_sent),
            if outcome.files_unchanged > 0 {
                format!(", {} unchanged", outcome.files_unchanged)
            } else {
                String::new()
            }
        );
        println!("{}", outcome.web_url);
        for f in &outcome.failed {
            eprintln!("not uploaded: {}", f.error.message);
        }
    }
    if outcome.failed.is_empty() {
        Exit::Ok
    } else {
        Exit::Partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
