pytest_plugins = ["fixtures.plugin", "fixtures.scram"]
