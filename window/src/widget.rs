//! View pieces the screens share, so that every form looks and behaves the same:
//! large fields a clerk can read from a step away, buttons labelled with their key,
//! and errors in the same place and colour.

use iced::widget::{Button, Column, TextInput, button, container, text, text_input};
use iced::{Element, Fill};

use crate::theme;

/// A large text field with an id (for focus). It submits nothing on Enter by
/// itself: a keyboard-wedge scanner ends every scan with Enter, typed into whatever
/// field has focus. The application decides what an Enter was (see `app.rs`): a
/// scanner's goes with its scan; a person's asks the screen what Enter does in the
/// focused field (each screen's `on_enter`).
pub fn field<'a, M: Clone + 'a>(
    placeholder: &str,
    value: &str,
    id: &'static str,
    on_input: impl Fn(String) -> M + 'a,
) -> TextInput<'a, M> {
    text_input(placeholder, value)
        .id(id)
        .on_input(on_input)
        .size(28)
        .padding(12)
}

/// A labelled path field and its "Choose... (Ctrl+O)" button, which opens the
/// desktop's own dialog; the button is disabled while `browse` is `None`.
pub fn path_field<'a, M: Clone + 'a>(
    label: &'a str,
    (placeholder, value): (&str, &str),
    id: &'static str,
    on_input: impl Fn(String) -> M + 'a,
    browse: Option<M>,
) -> Element<'a, M> {
    iced::widget::row![
        text(label).size(22).width(140),
        field(placeholder, value, id, on_input).width(640),
        action("Choose... (Ctrl+O)", browse),
    ]
    .spacing(12)
    .align_y(iced::Center)
    .into()
}

/// A large button; disabled when `message` is `None`.
pub fn action<'a, M: Clone + 'a>(label: &'a str, message: Option<M>) -> Button<'a, M> {
    button(text(label).size(24))
        .padding([10, 24])
        .on_press_maybe(message)
}

/// What an administrator's action came to: green when done, red (and said why)
/// when not; the words carry the meaning, the colour only repeats it.
pub fn outcome<'a, M: 'a>(outcome: &'a Result<String, String>) -> Element<'a, M> {
    match outcome {
        Ok(said) => text(said).size(22).color(theme::OK).into(),
        Err(said) => text(said).size(22).color(theme::ERROR).into(),
    }
}

/// A centred form with its error (if any) under it.
pub fn form<'a, M: 'a>(mut col: Column<'a, M>, error: Option<&'a str>) -> Element<'a, M> {
    if let Some(e) = error {
        col = col.push(text(e).size(24).color(theme::ERROR));
    }
    container(col).center_x(Fill).padding(36).into()
}

/// A supervisor mode's title bar, in the mode's own colour.
pub fn mode_title<'a, M: 'a>(title: &'a str, color: iced::Color) -> Element<'a, M> {
    container(text(title).size(28))
        .center_x(Fill)
        .padding(12)
        .style(theme::panel(color))
        .into()
}

/// The keyboard shortcuts of a mode's reasons: "Ctrl+1 Vacant  Ctrl+2 ...".
pub fn shortcuts<'a, M: 'a>(labels: impl Iterator<Item = &'static str>) -> Element<'a, M> {
    labels
        .enumerate()
        .fold(iced::widget::row![].spacing(14), |r, (i, label)| {
            r.push(text(format!("Ctrl+{} {label}", i + 1)).size(16))
        })
        .wrap()
        .into()
}

/// A flag mode's banner: waiting (`idle`), the last flag recorded (`word` and its
/// line, in `color`), or why the last scan was NOT flagged.
pub fn flag_banner<'a, M: 'a>(
    last: Option<Result<String, String>>,
    idle: &'a str,
    word: &'a str,
    color: iced::Color,
) -> Element<'a, M> {
    let (body, background) = match last {
        None => (
            iced::widget::column![text(idle).size(theme::BANNER_LINE)],
            theme::HEADER,
        ),
        Some(Ok(line)) => (
            iced::widget::column![
                text(format!("⚑  {word}")).size(theme::BANNER_WORD),
                text(line).size(theme::BANNER_LINE),
            ],
            color,
        ),
        Some(Err(e)) => (
            iced::widget::column![
                text("✖  NOT FLAGGED").size(theme::BANNER_WORD),
                text(e).size(24),
            ],
            theme::ERROR,
        ),
    };
    container(body.align_x(iced::Center))
        .center_x(Fill)
        .padding(24)
        .style(theme::panel(background))
        .into()
}
