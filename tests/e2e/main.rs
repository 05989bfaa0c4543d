//! End-to-end tests: the real app window under Xvfb, driven over WebDriver.
