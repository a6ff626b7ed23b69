//! The dashboard's two charts, drawn on iced's canvas: receipts per hour today
//! against the same hour the day before, and what the newest batches' entries came
//! to.
//!
//! Read from across a room (1.5 m): labels 18 px and more, thick bars, and numbers
//! on the bars. Colour is never the only signal: yesterday's bars are outlined where
//! today's are solid, and a batch's set-aside entries are hatched and its reversed
//! ones outlined, each named in the legend and counted in words beside the bar.

// Counts and indexes become pixels: a day's counts are far below f32's 2^24 exact
// integers, and a pixel off would not show.
#![allow(clippy::cast_precision_loss)]

use iced::widget::canvas::{self, Frame, Path, Stroke, Text};
use iced::{Color, Pixels, Point, Rectangle, Renderer, Size, Theme, mouse};

use ballot_intake_core::ledger::HourReceipts;
use std::collections::BTreeMap;

use crate::theme;

/// Label text size: readable at 1.5 m on a 1280x800 screen.
const LABEL: f32 = 18.0;
/// Today's bars, and the accepted part of a batch.
const TODAY: Color = theme::HEADER;
/// Yesterday's bars: an outline over a pale fill.
const YESTERDAY_FILL: Color = Color::from_rgb(0.86, 0.88, 0.90);
const ACCEPTED: Color = theme::OK;
const SET_ASIDE: Color = Color::from_rgb(0.80, 0.42, 0.0);
const GRID: Color = Color::from_rgb(0.85, 0.85, 0.85);
const INK: Color = Color::from_rgb(0.13, 0.13, 0.13);

/// The top of a count axis and its step: 1, 2 or 5 times a power of ten, at most
/// five steps, the top at or above `max`.
pub fn axis(max: i64) -> (i64, i64) {
    let max = max.max(1);
    let mut power = 1i64;
    loop {
        for m in [1, 2, 5] {
            let step = m * power;
            let top = (max + step - 1) / step * step;
            if top / step <= 5 {
                return (top, step);
            }
        }
        power = power.saturating_mul(10);
    }
}

fn label(frame: &mut Frame, content: impl Into<String>, at: Point, align: (f32, f32)) {
    use iced::alignment::Vertical;
    use iced::widget::text::Alignment;
    let align_x = if align.0 < 0.25 {
        Alignment::Left
    } else if align.0 > 0.75 {
        Alignment::Right
    } else {
        Alignment::Center
    };
    let align_y = if align.1 < 0.25 {
        Vertical::Top
    } else if align.1 > 0.75 {
        Vertical::Bottom
    } else {
        Vertical::Center
    };
    frame.fill_text(Text {
        content: content.into(),
        position: at,
        color: INK,
        size: Pixels(LABEL),
        align_x,
        align_y,
        ..Text::default()
    });
}

fn line(frame: &mut Frame, from: Point, to: Point, color: Color, width: f32) {
    frame.stroke(
        &Path::line(from, to),
        Stroke::default().with_color(color).with_width(width),
    );
}

/// Diagonal lines across `r`, 8 px apart: the hatching of set-aside entries.
fn hatch(frame: &mut Frame, r: Rectangle, color: Color) {
    let h = r.height;
    let mut k = -h;
    while k < r.width {
        let t0 = (-k / h).max(0.0);
        let t1 = ((r.width - k) / h).min(1.0);
        if t0 < t1 {
            let at = |t: f32| Point::new(r.x + k + t * h, r.y + h - t * h);
            line(frame, at(t0), at(t1), color, 2.0);
        }
        k += 8.0;
    }
}

/// A legend entry: its swatch drawn by `swatch`, then its name; returns the x after.
fn legend(
    frame: &mut Frame,
    x: f32,
    y: f32,
    name: &str,
    swatch: impl FnOnce(&mut Frame, Rectangle),
) -> f32 {
    swatch(
        frame,
        Rectangle::new(Point::new(x, y - 9.0), Size::new(26.0, 18.0)),
    );
    label(frame, name, Point::new(x + 34.0, y), (0.0, 0.5));
    x + 34.0 + 9.5 * name.len() as f32 + 30.0
}

fn solid(color: Color) -> impl FnOnce(&mut Frame, Rectangle) {
    move |f, r| f.fill_rectangle(r.position(), r.size(), color)
}

fn outlined(f: &mut Frame, r: Rectangle) {
    f.fill_rectangle(r.position(), r.size(), YESTERDAY_FILL);
    f.stroke_rectangle(
        r.position(),
        r.size(),
        Stroke::default().with_color(TODAY).with_width(2.5),
    );
}

/// How one part of a bar is drawn into its rectangle.
type Draw = fn(&mut Frame, Rectangle);

fn accepted(f: &mut Frame, r: Rectangle) {
    f.fill_rectangle(r.position(), r.size(), ACCEPTED);
}

fn hatched(f: &mut Frame, r: Rectangle) {
    f.fill_rectangle(r.position(), r.size(), Color::WHITE);
    hatch(f, r, SET_ASIDE);
    f.stroke_rectangle(
        r.position(),
        r.size(),
        Stroke::default().with_color(SET_ASIDE).with_width(2.0),
    );
}

/// Receipts per hour: for each hour, yesterday's bar (outlined) beside today's
/// (solid, with its count on top).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourChart {
    /// The hours, first to last.
    pub hours: Vec<HourReceipts>,
}

impl<Message> canvas::Program<Message> for HourChart {
    type State = ();

    fn draw(
        &self,
        _state: &(),
        renderer: &Renderer,
        _theme: &Theme,
        bounds: Rectangle,
        _cursor: mouse::Cursor,
    ) -> Vec<canvas::Geometry> {
        let mut frame = Frame::new(renderer, bounds.size());
        let (left, top, right, bottom) = (70.0, 44.0, 16.0, 56.0);
        let plot = Rectangle::new(
            Point::new(left, top),
            Size::new(
                (bounds.width - left - right).max(1.0),
                (bounds.height - top - bottom).max(1.0),
            ),
        );
        let mut x = left;
        x = legend(&mut frame, x, 14.0, "today", solid(TODAY));
        legend(&mut frame, x, 14.0, "the same hour yesterday", outlined);
        let max = self
            .hours
            .iter()
            .map(|h| h.today.max(h.yesterday))
            .max()
            .unwrap_or(0);
        let (axis_top, step) = axis(max);
        let y_of = |n: i64| plot.y + plot.height - plot.height * n as f32 / axis_top as f32;
        let mut tick = 0;
        while tick <= axis_top {
            let y = y_of(tick);
            line(
                &mut frame,
                Point::new(plot.x, y),
                Point::new(plot.x + plot.width, y),
                GRID,
                1.0,
            );
            label(
                &mut frame,
                tick.to_string(),
                Point::new(plot.x - 8.0, y),
                (1.0, 0.5),
            );
            tick += step;
        }
        let n = self.hours.len().max(1) as f32;
        let group = plot.width / n;
        let bar = (group * 0.36).min(48.0);
        for (i, h) in self.hours.iter().enumerate() {
            let gx = plot.x + group * i as f32 + (group - 2.0 * bar) / 2.0;
            let base = y_of(0);
            let ry = y_of(h.yesterday);
            outlined(
                &mut frame,
                Rectangle::new(Point::new(gx, ry), Size::new(bar, base - ry)),
            );
            let ty = y_of(h.today);
            frame.fill_rectangle(Point::new(gx + bar, ty), Size::new(bar, base - ty), TODAY);
            if h.today > 0 {
                label(
                    &mut frame,
                    h.today.to_string(),
                    Point::new(gx + 1.5 * bar, ty - 2.0),
                    (0.5, 1.0),
                );
            }
            let name = if group >= 56.0 {
                format!("{:02}:00", h.hour)
            } else {
                format!("{:02}", h.hour)
            };
            label(
                &mut frame,
                name,
                Point::new(plot.x + group * (i as f32 + 0.5), base + 6.0),
                (0.5, 0.0),
            );
        }
        line(
            &mut frame,
            Point::new(plot.x, y_of(0)),
            Point::new(plot.x + plot.width, y_of(0)),
            INK,
            2.0,
        );
        label(
            &mut frame,
            "receipts (envelopes accepted) per hour of the day, local time",
            Point::new(plot.x + plot.width / 2.0, bounds.height - 2.0),
            (0.5, 1.0),
        );
        vec![frame.into_geometry()]
    }
}

/// A batch's entries in the three groups the chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchTally {
    /// Accepted: in the tray.
    pub accepted: i64,
    /// Every other outcome and flag: set aside.
    pub set_aside: i64,
    /// Reversed by a correction.
    pub reversed: i64,
}

impl BatchTally {
    /// Groups a batch's counts (as the ledger gives them) for the chart.
    pub fn of(counts: &BTreeMap<String, i64>) -> BatchTally {
        counts
            .iter()
            .fold(BatchTally::default(), |mut t, (what, n)| {
                match what.as_str() {
                    "accepted" => t.accepted += n,
                    "reversed" => t.reversed += n,
                    _ => t.set_aside += n,
                }
                t
            })
    }

    fn total(self) -> i64 {
        self.accepted + self.set_aside + self.reversed
    }

    /// The counts in words, beside the bar.
    pub fn words(self) -> String {
        format!(
            "{} in tray, {} set aside, {} reversed",
            self.accepted, self.set_aside, self.reversed
        )
    }
}

/// Outcomes per batch: one horizontal bar a batch, accepted solid, set aside
/// hatched, reversed outlined, and the counts in words after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchChart {
    /// The batches, oldest first: number and tally.
    pub batches: Vec<(i64, BatchTally)>,
}

impl<Message> canvas::Program<Message> for BatchChart {
    type State = ();

    fn draw(
        &self,
        _state: &(),
        renderer: &Renderer,
        _theme: &Theme,
        bounds: Rectangle,
        _cursor: mouse::Cursor,
    ) -> Vec<canvas::Geometry> {
        let mut frame = Frame::new(renderer, bounds.size());
        let (left, top, words) = (110.0, 40.0, 330.0);
        let width = (bounds.width - left - words).max(1.0);
        let mut x = left;
        x = legend(&mut frame, x, 14.0, "in tray", accepted);
        x = legend(&mut frame, x, 14.0, "set aside", hatched);
        legend(&mut frame, x, 14.0, "reversed", outlined);
        let max = self
            .batches
            .iter()
            .map(|(_, t)| t.total())
            .max()
            .unwrap_or(0);
        let (axis_top, _) = axis(max);
        let rows = self.batches.len().max(1) as f32;
        let row = ((bounds.height - top) / rows).min(40.0);
        let scale = width / axis_top as f32;
        for (i, (batch, t)) in self.batches.iter().enumerate() {
            let y = top + row * i as f32;
            let h = row * 0.7;
            label(
                &mut frame,
                format!("batch {batch}"),
                Point::new(left - 10.0, y + h / 2.0),
                (1.0, 0.5),
            );
            let mut at = left;
            let parts: [(i64, Draw); 3] = [
                (t.accepted, accepted),
                (t.set_aside, hatched),
                (t.reversed, outlined),
            ];
            for (n, draw) in parts {
                if n > 0 {
                    let w = (n as f32 * scale).max(3.0);
                    draw(
                        &mut frame,
                        Rectangle::new(Point::new(at, y), Size::new(w, h)),
                    );
                    at += w;
                }
            }
            label(
                &mut frame,
                t.words(),
                Point::new(at + 10.0, y + h / 2.0),
                (0.0, 0.5),
            );
        }
        vec![frame.into_geometry()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_on_a_round_number_in_at_most_five_steps() {
        assert_eq!(axis(0), (1, 1));
        assert_eq!(axis(3), (3, 1));
        assert_eq!(axis(7), (8, 2));
        assert_eq!(axis(412), (500, 100));
        assert_eq!(axis(1001), (1500, 500));
        for max in 1..3000 {
            let (top, step) = axis(max);
            assert!(top >= max && top / step <= 5 && top % step == 0, "{max}");
        }
    }

    #[test]
    fn a_batch_is_grouped_into_tray_set_aside_and_reversed() {
        let counts: BTreeMap<String, i64> = [
            ("accepted", 40),
            ("duplicate", 2),
            ("voided", 1),
            ("undeliverable", 1),
            ("reversed", 3),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let t = BatchTally::of(&counts);
        assert_eq!((t.accepted, t.set_aside, t.reversed), (40, 4, 3));
        assert_eq!(t.words(), "40 in tray, 4 set aside, 3 reversed");
    }
}
