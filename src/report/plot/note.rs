//! A figure that is only words: the title and a few centred lines, for a
//! run whose data has nothing to draw (no trial saw downtime, say), so the
//! reader learns why instead of reading an empty or degenerate chart.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{self, Backend};
use super::{Figure, PlotError};

/// A [`super::note`] figure.
pub(super) struct Note<'a> {
    pub title: &'a str,
    pub lines: &'a [String],
}

impl Figure for Note<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        frame::heading(root, self.title)?;
        frame::centred(root, self.lines)
    }
}
