pytest_plugins = ["tests.servers.pytest_plugin"]
