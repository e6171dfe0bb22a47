pytest_plugins = ["tests.fixtures_emulator"]
