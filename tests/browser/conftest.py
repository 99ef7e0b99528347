"""Browser fixtures (browser, page) live in tests/conftest.py: one Playwright session
serves every folder. The browser tests drive the served app (`served`, same file)."""
