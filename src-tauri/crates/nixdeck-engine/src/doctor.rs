//! The "doctor": what the local machine has for nixdeck's workflow (nix and its
//! version, flakes, git, an ssh-agent and its keys, OS, architecture, memory),
//! each check with what to do when it is missing.
