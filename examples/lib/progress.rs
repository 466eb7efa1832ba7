//! A progress bar on stderr, drawn with `\r` (no terminal library).

use std::io::Write;
use std::time::{Duration, Instant};

const WIDTH: usize = 30;
const REDRAW: Duration = Duration::from_millis(100);
const MIB: f64 = 1024.0 * 1024.0;

/// Bytes done out of a total, redrawn at most ten times a second.
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: u64,
    done: u64,
    start: Instant,
    drawn: Option<Instant>,
    visible: bool,
}

impl Progress {
    /// A bar that starts now.
    pub fn new(label: &str, total: u64) -> Progress {
        Progress {
            label: label.to_owned(),
            total,
            done: 0,
            start: Instant::now(),
            drawn: None,
            visible: true,
        }
    }

    /// One that draws nothing (for tests).
    pub fn hidden(total: u64) -> Progress {
        Progress {
            visible: false,
            ..Progress::new("", total)
        }
    }

    /// Sets the bytes done, and redraws if it is time.
    pub fn set(&mut self, done: u64) {
        self.done = done;
        let now = Instant::now();
        if self.drawn.is_none_or(|t| now - t >= REDRAW) {
            self.drawn = Some(now);
            self.draw(now);
        }
    }

    /// Draws the final state and ends the line.
    pub fn finish(&mut self) {
        self.draw(Instant::now());
        if self.visible {
            eprintln!();
        }
    }

    fn draw(&self, now: Instant) {
        if !self.visible {
            return;
        }
        let fraction = if self.total == 0 {
            1.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0)
        };
        let filled = (fraction * WIDTH as f64) as usize;
        let secs = (now - self.start).as_secs_f64().max(1e-9);
        let rate = self.done as f64 / 1e6 / secs;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{} [{}{}] {:5.1}% {:8.1}/{:.1} MiB {:8.1} MB/s",
            self.label,
            "#".repeat(filled),
            ".".repeat(WIDTH - filled),
            fraction * 100.0,
            self.done as f64 / MIB,
            self.total as f64 / MIB,
            rate
        );
        let _ = err.flush();
    }
}
