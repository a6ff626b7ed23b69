//! The desktop's own file or folder dialog (the XDG portal, else zenity), for the
//! screens that read or write a file (import, nightly file). rfd runs it on a thread
//! of its own, so the window stays live while it is open.

use iced::Task;

/// What the dialog picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// An existing file.
    File,
    /// A folder.
    Folder,
}

/// Shows `dialog`; its answer (the path, or `None` if it was cancelled or none could
/// be shown) is the task's output.
pub fn choose(dialog: rfd::AsyncFileDialog, pick: Pick) -> Task<Option<String>> {
    let path = |h: rfd::FileHandle| h.path().display().to_string();
    match pick {
        Pick::File => Task::perform(dialog.pick_file(), move |f| f.map(path)),
        Pick::Folder => Task::perform(dialog.pick_folder(), move |f| f.map(path)),
    }
}
