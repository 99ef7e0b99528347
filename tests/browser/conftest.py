"""Browser fixtures (live_server, browser, page) live in tests/conftest.py: one Playwright
session serves every folder."""
