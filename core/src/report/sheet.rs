//! A printed sheet: lines of text down US Letter pages in the standard Helvetica (no
//! font to embed, so every PDF reader and printer has it), rules, and lines to sign
//! on. Enough for a custody sheet or a day's reconciliation, and nothing clever: a
//! county prints these and files them with the paper log.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 612.0;
const HEIGHT: f32 = 792.0;
const MARGIN: f32 = 48.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Text as the standard fonts' WinAnsi encoding has it: Latin-1 as is, the common
/// typographic marks at their places, anything else as `?` (a name in another
/// script still prints, if not legibly, and nothing is dropped silently).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{20ac}' => 0x80,
            _ => b'?',
        })
        .collect()
}

/// A sheet being written.
pub struct Sheet {
    title: String,
    footer: String,
    pages: Vec<Content>,
    y: f32,
}

impl Sheet {
    /// A sheet whose pages each carry `footer` (and their number) at the bottom.
    pub fn new(title: &str, footer: &str) -> Sheet {
        let mut sheet = Sheet {
            title: title.to_string(),
            footer: footer.to_string(),
            pages: Vec::new(),
            y: 0.0,
        };
        sheet.new_page();
        sheet
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = HEIGHT - MARGIN;
    }

    fn room(&mut self, height: f32) {
        if self.y - height < MARGIN + 24.0 {
            self.new_page();
        }
    }

    fn page(&mut self) -> &mut Content {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn put(&mut self, x: f32, size: f32, bold: bool, text: &str) {
        let y = self.y;
        let bytes = win_ansi(text);
        let page = self.page();
        page.begin_text();
        page.set_font(if bold { BOLD } else { REGULAR }, size);
        page.next_line(x, y);
        page.show(Str(&bytes));
        page.end_text();
    }

    /// The sheet's heading.
    pub fn heading(&mut self, text: &str) {
        self.room(30.0);
        self.y -= 20.0;
        self.put(MARGIN, 18.0, true, text);
        self.y -= 10.0;
    }

    /// A section's title.
    pub fn section(&mut self, text: &str) {
        self.room(40.0);
        self.y -= 18.0;
        self.put(MARGIN, 12.5, true, text);
        self.y -= 4.0;
        self.rule();
    }

    /// A label and its value on one line.
    pub fn field(&mut self, label: &str, value: &str) {
        self.room(16.0);
        self.y -= 14.0;
        self.put(MARGIN, 10.5, true, label);
        self.put(MARGIN + 170.0, 10.5, false, value);
    }

    /// A line of plain text.
    pub fn text(&mut self, text: &str) {
        self.room(16.0);
        self.y -= 14.0;
        self.put(MARGIN, 10.0, false, text);
    }

    /// A row of a table: cells at the given x offsets from the margin.
    pub fn row(&mut self, cells: &[(f32, &str)], bold: bool) {
        self.room(15.0);
        self.y -= 14.0;
        for (x, cell) in cells {
            self.put(MARGIN + x, 9.5, bold, cell);
        }
    }

    /// A thin rule across the page.
    pub fn rule(&mut self) {
        let y = self.y - 3.0;
        let page = self.page();
        page.set_line_width(0.5);
        page.move_to(MARGIN, y);
        page.line_to(WIDTH - MARGIN, y);
        page.stroke();
        self.y -= 6.0;
    }

    /// A line to sign on, with what to write under it.
    pub fn signature(&mut self, label: &str) {
        self.room(40.0);
        self.y -= 28.0;
        let y = self.y;
        {
            let page = self.page();
            page.set_line_width(0.7);
            page.move_to(MARGIN, y);
            page.line_to(MARGIN + 300.0, y);
            page.move_to(MARGIN + 330.0, y);
            page.line_to(WIDTH - MARGIN, y);
            page.stroke();
        }
        self.y -= 11.0;
        self.put(MARGIN, 8.5, false, label);
        self.put(MARGIN + 330.0, 8.5, false, "Date and time");
    }

    /// Pages so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The finished PDF's bytes.
    pub fn finish(self) -> Vec<u8> {
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        let count = self.pages.len();
        let first = 10;
        let page_ids: Vec<Ref> = (0..count)
            .map(|i| Ref::new(first + 2 * i32::try_from(i).unwrap_or(0)))
            .collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_ids.iter().copied())
            .count(i32::try_from(count).unwrap_or(i32::MAX));
        pdf.type1_font(regular)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold)
            .base_font(Name(b"Helvetica-Bold"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("ballot-intake"));
        for (i, mut content) in self.pages.into_iter().enumerate() {
            let footer = win_ansi(&format!("{}    Page {} of {count}", self.footer, i + 1));
            content.begin_text();
            content.set_font(REGULAR, 8.0);
            content.next_line(MARGIN, MARGIN - 20.0);
            content.show(Str(&footer));
            content.end_text();
            let id = page_ids[i];
            let content_id = Ref::new(id.get() + 1);
            let mut page = pdf.page(id);
            page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
            page.parent(tree);
            page.contents(content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(REGULAR, regular);
            fonts.pair(BOLD, bold);
            fonts.finish();
            resources.finish();
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_text_keeps_its_letters_and_the_rest_is_marked() {
        assert_eq!(win_ansi("José Núñez"), b"Jos\xe9 N\xfa\xf1ez".to_vec());
        assert_eq!(win_ansi("a \u{2013} b"), b"a \x96 b".to_vec());
        assert_eq!(win_ansi("Nguyễn"), b"Nguy?n".to_vec());
    }

    #[test]
    fn a_long_sheet_goes_on_to_more_pages() {
        let mut sheet = Sheet::new("t", "footer");
        for i in 0..200 {
            sheet.text(&format!("line {i}"));
        }
        let pages = sheet.pages.len();
        assert!(pages >= 4, "{pages}");
        let pdf = sheet.finish();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
