//! The length limits of the text a rep sends (see [`crate::limits`]), checked in one place: a
//! field over its limit gets 422 naming the field and the limit, before anything is stored.

use crate::error::AppError;
use crate::limits::{
    MAX_ATTEMPT_NOTE_BYTES, MAX_EMAIL_BYTES, MAX_NAME_CHARS, MAX_NEXT_STEP_CHARS, MAX_NOTES_BYTES,
    MAX_PHONE_CHARS,
};

#[derive(Debug, Clone, Copy)]
enum Unit {
    Chars,
    Bytes,
}

/// The longest a text field may be.
#[derive(Debug)]
pub struct TextLimit {
    field: &'static str,
    max: usize,
    unit: Unit,
}

pub const NAME: TextLimit = TextLimit {
    field: "name",
    max: MAX_NAME_CHARS,
    unit: Unit::Chars,
};
pub const EMAIL: TextLimit = TextLimit {
    field: "email",
    max: MAX_EMAIL_BYTES,
    unit: Unit::Bytes,
};
pub const PHONE: TextLimit = TextLimit {
    field: "phone",
    max: MAX_PHONE_CHARS,
    unit: Unit::Chars,
};
pub const NOTES: TextLimit = TextLimit {
    field: "notes",
    max: MAX_NOTES_BYTES,
    unit: Unit::Bytes,
};
pub const NEXT_STEP: TextLimit = TextLimit {
    field: "what",
    max: MAX_NEXT_STEP_CHARS,
    unit: Unit::Chars,
};
pub const ATTEMPT_NOTE: TextLimit = TextLimit {
    field: "note",
    max: MAX_ATTEMPT_NOTE_BYTES,
    unit: Unit::Bytes,
};

impl TextLimit {
    /// `Ok` for no text or text within the limit; 422 otherwise (a lead's fields).
    pub fn check(&self, text: Option<&str>) -> Result<(), AppError> {
        self.over(text)
            .map_or(Ok(()), |problem| Err(AppError::Unprocessable(problem)))
    }

    /// As [`Self::check`], with 400: the follow-up routes answer every bad input alike.
    pub fn check_request(&self, text: Option<&str>) -> Result<(), AppError> {
        self.over(text)
            .map_or(Ok(()), |problem| Err(AppError::BadRequest(problem)))
    }

    /// What is wrong with `text`, if it is over the limit.
    fn over(&self, text: Option<&str>) -> Option<String> {
        let text = text?;
        let (length, unit) = match self.unit {
            Unit::Chars => (text.chars().count(), "characters"),
            Unit::Bytes => (text.len(), "bytes of UTF-8"),
        };
        (length > self.max).then(|| {
            format!(
                "{} may be at most {} {unit}; this one is {length}",
                self.field, self.max
            )
        })
    }
}

/// The fields of a manual lead (`POST /api/leads`).
pub fn check_manual_lead(
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    notes: Option<&str>,
) -> Result<(), AppError> {
    NAME.check(Some(name))?;
    EMAIL.check(email)?;
    PHONE.check(phone)?;
    NOTES.check(notes)
}
