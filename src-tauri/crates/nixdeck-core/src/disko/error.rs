//! Where in a layout something is ([`OptionPath`]) and what can go wrong with a
//! layout as a whole ([`LayoutError`]).

use crate::nix::attr_name;
use std::fmt;
use std::sync::Arc;
use thiserror::Error;

/// A position in a layout, printed the way disko names options:
/// `disko.devices.disk.main.content.partitions.ESP.size`. Names that are not
/// plain identifiers are quoted (`disk."my disk"`), list items are `[i]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptionPath(Option<Arc<Node>>);

/// One step and the path before it: extending a path is one allocation, which
/// matters because importing builds a path for every option it reads.
#[derive(Debug, PartialEq, Eq)]
struct Node {
    parent: OptionPath,
    step: Step,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Name(String),
    Index(usize),
}

impl OptionPath {
    /// The root of a layout: `disko.devices`.
    pub fn devices() -> Self {
        Self::default().child("disko").child("devices")
    }

    /// This path extended by an attribute name.
    pub fn child(&self, name: &str) -> Self {
        self.push(Step::Name(name.to_string()))
    }

    /// This path extended by a list index.
    pub fn index(&self, index: usize) -> Self {
        self.push(Step::Index(index))
    }

    /// The keys from `disko.devices` to this place in the layout's JSON (list
    /// indexes as their digits), unquoted: what a reader of the JSON follows.
    pub fn keys(&self) -> Vec<String> {
        self.steps()
            .into_iter()
            .skip(2)
            .map(|step| match step {
                Step::Name(name) => name.clone(),
                Step::Index(index) => index.to_string(),
            })
            .collect()
    }

    fn push(&self, step: Step) -> Self {
        Self(Some(Arc::new(Node {
            parent: self.clone(),
            step,
        })))
    }

    fn steps(&self) -> Vec<&Step> {
        let mut steps = Vec::new();
        let mut at = &self.0;
        while let Some(node) = at {
            steps.push(&node.step);
            at = &node.parent.0;
        }
        steps.reverse();
        steps
    }
}

impl fmt::Display for OptionPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps().into_iter().enumerate() {
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
