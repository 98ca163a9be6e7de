"""Browser tests: Playwright driving Debian's Chromium against the app on a real port."""
