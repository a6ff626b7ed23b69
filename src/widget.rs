//! View pieces the screens share, so that every form looks and behaves the same:
//! large fields a clerk can read from a step away, buttons labelled with their key,
//! and errors in the same place and colour.

use iced::widget::{Button, Column, TextInput, button, container, text, text_input};
use iced::{Element, Fill};

use crate::theme;

/// A large text field with an id (for focus), submitting on Enter.
pub fn field<'a, M: Clone + 'a>(
    placeholder: &str,
    value: &str,
    id: &'static str,
    on_input: impl Fn(String) -> M + 'a,
    on_submit: M,
) -> TextInput<'a, M> {
    text_input(placeholder, value)
        .id(id)
        .on_input(on_input)
        .on_submit(on_submit)
        .size(28)
        .padding(12)
}

/// A large button; disabled when `message` is `None`.
pub fn action<'a, M: Clone + 'a>(label: &'a str, message: Option<M>) -> Button<'a, M> {
    button(text(label).size(24))
        .padding([10, 24])
        .on_press_maybe(message)
}

/// A centred form with its error (if any) under it.
pub fn form<'a, M: 'a>(mut col: Column<'a, M>, error: Option<&'a str>) -> Element<'a, M> {
    if let Some(e) = error {
        col = col.push(text(e).size(24).color(theme::ERROR));
    }
    container(col).center_x(Fill).padding(36).into()
}
