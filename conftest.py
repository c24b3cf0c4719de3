"""The checkout's pytest root. kconform's fixtures are a pytest plugin loaded through the `pytest11` entry
point (`kconform = "kconform_fixtures.plugin"` in pyproject.toml), as in a user's project; listing it here
as well would register it twice."""

pytest_plugins: list[str] = []
