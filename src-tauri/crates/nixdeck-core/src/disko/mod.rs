//! Disk layouts: disko's whole model, lossless import and render, sizes, validation
//! and templates.
