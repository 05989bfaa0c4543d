//! Where in a layout something is ([`OptionPath`]) and what can go wrong with a
//! layout as a whole ([`LayoutError`]).

use crate::nix::attr_name;
use std::fmt;
use thiserror::Error;

/// A position in a layout, printed the way disko names options:
/// `disko.devices.disk.main.content.partitions.ESP.size`. Names that are not
/// plain identifiers are quoted (`disk."my disk"`), list items are `[i]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptionPath(Vec<Step>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Name(String),
    Index(usize),
}

impl OptionPath {
    /// The root of a layout: `disko.devices`.
    pub fn devices() -> Self {
        Self(vec![
            Step::Name("disko".into()),
            Step::Name("devices".into()),
        ])
    }

    /// This path extended by an attribute name.
    pub fn child(&self, name: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Name(name.to_string()));
        Self(steps)
    }

    /// This path extended by a list index.
    pub fn index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
        Self(steps)
    }
}

impl fmt::Display for OptionPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Name(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(&attr_name(name))?;
                }
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Why a layout could not be read, built or written.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LayoutError {
    /// A value has the wrong shape for its option.
    #[error("{path}: {message}")]
    Invalid {
        /// The option, e.g. `disko.devices.disk.main.content.partitions.ESP.size`.
        path: String,
        /// What is wrong and what is expected, in words.
        message: String,
    },
    /// The JSON holds no disko devices.
    #[error("this is not a disko layout: {0}")]
    NotALayout(String),
    /// A template name nixdeck does not have.
    #[error("there is no layout template `{name}`; the templates are: {known}")]
    UnknownTemplate {
        /// The name asked for.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// A template was given the wrong number of disks.
    #[error("the `{template}` template needs {needed} disk(s), {given} given")]
    TemplateDisks {
        /// The template.
        template: String,
        /// How many it needs.
        needed: usize,
        /// How many were given.
        given: usize,
    },
}

impl LayoutError {
    pub(crate) fn invalid(path: &OptionPath, message: impl Into<String>) -> Self {
        LayoutError::Invalid {
            path: path.to_string(),
            message: message.into(),
        }
    }
}
