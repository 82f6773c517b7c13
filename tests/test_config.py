"""Stage configs validate their fields and round-trip through YAML."""

import pytest

from forklift_core.config import IngestConfig
from forklift_core.errors import BadInputError
from forklift_core.workspace import Workspace, check_project_name


def test_ingest_config_yaml_round_trip() -> None:
    config = IngestConfig(extractor="tree-sitter", shards=3, skip_dirs=("vendor", "gen"), max_file_kb=64)
    again = IngestConfig.from_yaml(config.to_yaml())
    assert again == config
    assert again.skip_dirs == ("vendor", "gen")


def test_unknown_option_is_refused() -> None:
    with pytest.raises(BadInputError, match="unknown option"):
        IngestConfig.from_dict({"extractor": "ctags", "typo_field": 1})


@pytest.mark.parametrize("kwargs", [{"extractor": "regex"}, {"max_file_kb": 0}, {"shards": -1}])
def test_invalid_values_are_refused(kwargs: dict) -> None:
    with pytest.raises(BadInputError):
        IngestConfig(**kwargs)


def test_every_field_has_help() -> None:
    from dataclasses import fields

    assert all(f.metadata.get("help") for f in fields(IngestConfig))


@pytest.mark.parametrize("name", ["../etc", "a/b", "", ".hidden", "x" * 65, "bad name"])
def test_project_names_stay_one_safe_folder(name: str) -> None:
    with pytest.raises(BadInputError):
        check_project_name(name)


def test_workspace_env_override(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FORKLIFT_WORKSPACE", str(tmp_path / "elsewhere"))
    assert Workspace.default().root == tmp_path / "elsewhere"
    assert Workspace.default(tmp_path / "given").root == tmp_path / "given"
