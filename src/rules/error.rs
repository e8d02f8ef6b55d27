//! Rule errors that point at the mistake.
//!
//! Every error carries the file, line and column, the source line and the
//! span to underline, what was expected, and a suggestion when one is close
//! (rendered like rustc and just do). A file's errors are all collected, so
//! an author fixes them in one pass.

use std::fmt;
use std::ops::Range;

/// One problem in one rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The file (as given, or `builtin:NAME` for compiled-in rules).
    pub path: String,
    /// 1-based line of the span start (0 when the error has no place).
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The source line the span is on.
    pub source_line: String,
    /// How many characters to underline on that line.
    pub width: usize,
    /// What is wrong.
    pub message: String,
    /// A suggestion ("did you mean `category`?").
    pub help: Option<String>,
}

impl RuleError {
    /// An error at byte range `span` of `source`.
    pub fn at(
        path: &str,
        source: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> RuleError {
        let start = span.start.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line_text = source[line_start..line_end].trim_end_matches('\r');
        let end = span.end.clamp(start, line_end);
        RuleError {
            path: path.to_string(),
            line: source[..start].matches('\n').count() + 1,
            column: source[line_start..start].chars().count() + 1,
            source_line: line_text.to_string(),
            width: source[start..end].chars().count().max(1),
            message: message.into(),
            help: None,
        }
    }

    /// An error about the whole file.
    pub fn file(path: &str, message: impl Into<String>) -> RuleError {
        RuleError {
            path: path.to_string(),
            line: 0,
            column: 0,
            source_line: String::new(),
            width: 0,
            message: message.into(),
            help: None,
        }
    }

    /// Adds a suggestion.
    pub fn help(mut self, help: impl Into<String>) -> RuleError {
        self.help = Some(help.into());
        self
    }

    /// Adds a suggestion to an error already collected.
    pub fn hint(&mut self, help: impl Into<String>) -> &mut RuleError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if self.line == 0 {
            write!(f, "  --> {}", self.path)?;
        } else {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(f, "{pad}--> {}:{}:{}", self.path, self.line, self.column)?;
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {}", self.source_line.replace('\t', " "))?;
            let lead = " ".repeat(self.column - 1);
            write!(f, "{pad} | {lead}{}", "^".repeat(self.width))?;
        }
        if let Some(h) = &self.help {
            let pad = " ".repeat(self.line.max(1).to_string().len());
            write!(f, "\n{pad} = help: {h}")?;
        }
        Ok(())
    }
}

/// Several errors, shown one after another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleErrors(pub Vec<RuleError>);

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "\n\n{n} error{} in rule files",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for RuleErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_caret_under_the_span() {
        let src = "id = \"x\"\nwhen = 'level >= warning && categry == 1'\n";
        let at = src.find("categry").unwrap();
        let e = RuleError::at("r.toml", src, at..at + 7, "unknown field `categry`")
            .help("did you mean `category`?");
        assert_eq!((e.line, e.column, e.width), (2, 29, 7));
        assert_eq!(
            e.to_string(),
            "error: unknown field `categry`\n --> r.toml:2:29\n  |\n2 | when = 'level >= warning && categry == 1'\n  |                             ^^^^^^^\n  = help: did you mean `category`?"
        );
    }
}
