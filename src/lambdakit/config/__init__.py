"""The project's configuration: template.yaml, pyproject.toml, samconfig.toml."""
