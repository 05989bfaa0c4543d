//! Infrastructure repositories in the article's flake layout: hosts, their
//! configuration and deployment settings, and the files nixdeck writes for them.
