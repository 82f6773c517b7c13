"""Build facts come from each build system's own file and from the README's instructions."""

from forklift_core.ingest.build import readme_commands
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader
from tests.conftest import POLYGLOT


def test_build_facts_from_every_build_file(workspace) -> None:
    ingest(str(POLYGLOT), "p", workspace)
    facts = {(f["action"], f["command"], f["tool"]) for f in IndexReader(workspace.project("p")).build_facts()}
    expected = {
        ("build", "make all", "make"), ("test", "make test", "make"),
        ("build", "cd rust && cargo build", "cargo"), ("test", "cd rust && cargo test", "cargo"),
        ("test", "cd go && go test ./...", "go"), ("build", "cd js && npm run build", "npm"),
        ("test", "cd js && npm test", "npm"), ("install", "cd py && pip install .", "pip"),
        ("test", "cd py && pytest", "pytest"), ("run", "shapes", "pip"),
        ("build", "make all", "readme"), ("test", "make test", "readme"),
    }
    assert expected <= facts


def test_readme_commands_only_under_relevant_headings() -> None:
    text = "# Tool\n\n## Installation\n\n```bash\n$ pip install tool\n# a comment\n```\n\n## Example output\n\n" \
           "```python\nprint('hi')\n```\n\n## License\n\n```\nMIT\n```\n"
    facts = list(readme_commands(text, "README.md"))
    assert [(f.action, f.command, f.line) for f in facts] == [("install", "pip install tool", 6)]
