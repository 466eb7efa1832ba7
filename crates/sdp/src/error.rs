//! Parse errors.

/// Longest excerpt of an offending line kept in an error.
const MAX_EXCERPT: usize = 120;

/// Why a session description could not be parsed: which line, what it said,
/// and what the parser expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SDP line {line}: {expected}, found `{text}`")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// The line (cut to 120 characters).
    pub text: String,
    /// What was expected.
    pub expected: &'static str,
}

impl ParseError {
    pub(crate) fn new(line: usize, text: &str, expected: &'static str) -> ParseError {
        let mut end = text.len().min(MAX_EXCERPT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        ParseError {
            line,
            text: text[..end].to_owned(),
            expected,
        }
    }
}
