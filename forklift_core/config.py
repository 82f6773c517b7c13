"""One dataclass per stage config; the CLI, the app and remote jobs all build these same objects."""

from __future__ import annotations

import os
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from forklift_core.errors import BadInputError

T = TypeVar("T", bound="StageConfig")

MiB = 1024 * 1024


def option(default: Any, help: str, **kwargs: Any) -> Any:
    """A dataclass field with a help text (shown by the CLI and the app)."""
    if isinstance(default, (list, dict, set, tuple)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kwargs})
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass
class StageConfig:
    """Base: validation hook plus a YAML round-trip that rejects unknown keys."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (lists for tuples)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def to_yaml(self) -> str:
        """YAML text that from_yaml reads back to an equal config."""
        import yaml  # here, not at the top: every ingest worker imports this module, and none reads YAML

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Build from a dict; unknown keys are an error, not silently dropped."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadInputError(f"{cls.__name__}: unknown option(s) {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def from_yaml(cls: type[T], text: str) -> T:
        """Build from YAML text."""
        import yaml

        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            raise BadInputError(f"{cls.__name__}: expected a mapping of options")
        return cls.from_dict(data)

    def require_at_least(self, minimum: int, *names: str) -> None:
        """Refuse any of the named fields below `minimum` (one check for every stage's counts and sizes)."""
        for name in names:
            if getattr(self, name) < minimum:
                raise BadInputError(f"{name} must be at least {minimum}")

    @classmethod
    def help_for(cls, name: str) -> str:
        """The help text of one field."""
        return next(f.metadata.get("help", "") for f in fields(cls) if f.name == name)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Field defaults, for showing in the app."""
        out = {}
        for f in fields(cls):
            out[f.name] = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        return out


DEFAULT_SKIP_DIRS = (
    ".git", ".hg", ".svn", "node_modules", "vendor", "third_party", "thirdparty", "external", ".venv",
    "venv", "site-packages", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache", "bower_components",
    "Pods", "dist", "build", "target", ".idea", ".vscode", "workspace", ".cache",
)


@dataclass
class IngestConfig(StageConfig):
    """How a repository becomes an index."""

    # --- sources
    allow_local_paths: bool = option(True, "Accept a path on this machine (turned off on a public Space).")
    clone_timeout_s: int = option(180, "Seconds a git clone may take.")
    clone_max_mb: int = option(500, "Largest clone, in MiB, before it is stopped.")
    archive_max_mb: int = option(1024, "Most bytes an archive may unpack to, in MiB.")
    archive_max_members: int = option(50_000, "Most members an archive may hold.")
    archive_max_ratio: int = option(100, "Largest unpacked/packed size ratio before an archive counts as a bomb.")
    max_depth: int = option(64, "Deepest folder nesting read from a tree or an archive; deeper entries are skipped.")
    # --- file walk
    max_file_kb: int = option(1024, "Files larger than this (KiB) are skipped as oversized.")
    minified_avg_line: int = option(300, "Code files whose average line is longer than this are skipped as minified.")
    skip_dirs: tuple[str, ...] = option(DEFAULT_SKIP_DIRS, "Directory names never entered (vendored or generated).")
    # --- extraction
    extractor: str = option("auto", "auto (ctags when present, else tree-sitter), ctags or tree-sitter.")
    shards: int = option(0, "Parallel ctags/tree-sitter shards; 0 means one per core.")
    ctags_timeout_s: int = option(600, "Seconds one ctags shard may run.")
    ctags_memory_mb: int = option(2048, "Address-space cap of one ctags process, in MiB.")
    references: bool = option(True, "Extract who-calls-what edges.")
    c_references: str = option("auto", "Where C call and type-use edges come from: auto (the native lexical scan "
                                       "when built, else cscope when installed, else tree-sitter), lexical, cscope "
                                       "or tree-sitter. The scan reads a kernel tree in a tenth of cscope's time; "
                                       "both find 99% of tree-sitter's calls in a fraction of its time.")
    python_references: str = option("lexical", "Where Python call edges come from: lexical (a scan for names "
                                               "before '(' outside comments and strings: tree-sitter's calls in a "
                                               "fifth of its time) or tree-sitter.")
    incremental: bool = option(True, "Re-ingest of an indexed project re-reads only the files whose content "
                                     "changed (and keeps the index as it is when none did).")
    snippet_max_lines: int = option(60, "Most lines kept of a definition's source.")
    snippet_max_chars: int = option(4000, "Most characters kept of a definition's source.")
    doc_max_chars: int = option(1500, "Most characters kept of a docstring or leading comment.")

    def __post_init__(self) -> None:
        self.skip_dirs = tuple(self.skip_dirs)
        if self.extractor not in ("auto", "ctags", "tree-sitter"):
            raise BadInputError(f"extractor must be auto, ctags or tree-sitter, not {self.extractor!r}")
        if self.c_references not in ("auto", "lexical", "cscope", "tree-sitter"):
            raise BadInputError(f"c_references must be auto, lexical, cscope or tree-sitter, not {self.c_references!r}")
        if self.python_references not in ("lexical", "tree-sitter"):
            raise BadInputError(f"python_references must be lexical or tree-sitter, not {self.python_references!r}")
        self.require_at_least(1, "clone_timeout_s", "clone_max_mb", "archive_max_mb", "archive_max_members",
                              "archive_max_ratio", "max_depth", "max_file_kb", "minified_avg_line", "ctags_timeout_s",
                              "ctags_memory_mb", "snippet_max_lines", "snippet_max_chars", "doc_max_chars")
        if self.shards < 0:
            raise BadInputError("shards must be 0 (one per core) or more")

    @property
    def shard_count(self) -> int:
        """Shards actually used."""
        return self.shards or max(1, os.cpu_count() or 1)


def default_workspace() -> Path:
    """FORKLIFT_WORKSPACE, else /data/workspace on a Space with persistent storage, else ./workspace.

    Read at call time, never at import.
    """
    if os.environ.get("FORKLIFT_WORKSPACE"):
        return Path(os.environ["FORKLIFT_WORKSPACE"]).expanduser()
    persistent = Path("/data")
    if os.environ.get("SPACE_ID") and persistent.is_dir() and os.access(persistent, os.W_OK):
        return persistent / "workspace"
    return Path("workspace")


FAMILIES = (
    "definition_location", "kind_signature", "parameters_return", "enclosing_scope", "members", "callers",
    "callees", "purpose", "file_symbols", "directory_purpose", "build_test", "last_change", "absent_symbol",
)
NEGATIVE_SOURCES = ("hard", "onpolicy")


@dataclass
class GenerateConfig(StageConfig):
    """How grounded Q&A and preference pairs are written from the index."""

    # --- what to ask
    families: tuple[str, ...] = option(FAMILIES, "Question families to generate.")
    phrasings_per_fact: int = option(5, "Phrasings of each fact (templates; at least 5 exist per family).")
    max_facts_per_family: int = option(2000, "Cap per family, so one family cannot dominate.")
    max_facts_per_file: int = option(40, "Cap per source file, so one huge file cannot dominate.")
    max_facts_per_directory: int = option(400, "Cap per directory.")
    max_list_items: int = option(12, "Most items named in a list answer (callers, members, file symbols).")
    include_private: bool = option(False, "Ask about names starting with '_' (dunder methods are always skipped).")
    # --- preference pairs
    negatives: tuple[str, ...] = option(("hard",), "Sources of rejected answers: hard (structural), onpolicy (base model).")
    onpolicy_model: str = option("HuggingFaceTB/SmolLM2-135M-Instruct", "Model whose wrong answers become on-policy negatives.")
    onpolicy_max_prompts: int = option(64, "Most prompts sent to the base model for on-policy negatives.")
    onpolicy_batch_size: int = option(16, "Prompts generated together (left-padded batches).")
    onpolicy_max_new_tokens: int = option(48, "Tokens generated per on-policy answer.")
    # --- splits
    seed: int = option(13, "Seed for every random choice; the same seed gives the same data.")
    holdout_by: str = option("file", "Hold out facts by file, directory or row (file/directory avoid leakage).")
    test_fraction: float = option(0.1, "Share of files (or directories, rows) whose facts are held out for test.")
    validation_fraction: float = option(0.05, "Share of files (or directories, rows) held out for validation.")
    unseen_phrasing_fraction: float = option(0.5, "Share of training facts with one phrasing moved to test.")
    # --- teacher (optional)
    teacher_url: str = option("", "OpenAI-compatible base URL (…/v1) or empty for templates only.")
    teacher_model: str = option("", "Teacher model name (or a Hub id for Inference Providers).")
    teacher_provider: str = option("", "Hugging Face Inference Provider (when no URL is given).")
    teacher_concurrency: int = option(4, "Teacher requests in flight at once.")
    teacher_max_retries: int = option(4, "Retries on rate limits and server errors (exponential backoff).")
    teacher_timeout_s: float = option(60.0, "Seconds one teacher request may take.")
    teacher_paraphrases: int = option(2, "Extra teacher phrasings per fact.")
    teacher_max_facts: int = option(200, "Most facts sent to the teacher.")
    teacher_allow_private: bool = option(True, "Allow a teacher on a private or local address (off on a public Space).")
    # --- secrets
    scan_secrets: bool = option(True, "Scan every snippet and answer for secrets and redact hits.")

    def __post_init__(self) -> None:
        self.families = tuple(self.families)
        self.negatives = tuple(self.negatives)
        unknown = sorted(set(self.families) - set(FAMILIES))
        if unknown:
            raise BadInputError(f"unknown question families: {', '.join(unknown)} (known: {', '.join(FAMILIES)})")
        bad = sorted(set(self.negatives) - set(NEGATIVE_SOURCES))
        if bad:
            raise BadInputError(f"unknown negative sources: {', '.join(bad)} (use hard, onpolicy)")
        if self.holdout_by not in ("file", "directory", "row"):
            raise BadInputError("holdout_by must be file, directory or row")
        for name in ("test_fraction", "validation_fraction", "unseen_phrasing_fraction"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise BadInputError(f"{name} must be in [0, 1)")
        if self.test_fraction + self.validation_fraction >= 1.0:
            raise BadInputError("test_fraction + validation_fraction must leave room for train")
        self.require_at_least(1, "phrasings_per_fact", "max_facts_per_family", "max_facts_per_file",
                              "max_facts_per_directory", "max_list_items", "onpolicy_batch_size", "teacher_concurrency")
        if self.teacher_url and not self.teacher_url.startswith(("http://", "https://")):
            raise BadInputError("teacher_url must be an http(s) URL")


@dataclass
class TrainPlan(StageConfig):
    """What a training run does; written as plan.yaml into the run folder and read by train/job.py."""

    base_model: str = option("HuggingFaceTB/SmolLM2-135M-Instruct", "Base model: a Hub id, a local folder or 'smollm2'.")
    base_model_path: str = option("", "Where the job loads the base from (filled in at launch).")
    method: str = option("sft", "sft, dpo or sft+dpo (DPO continues the SFT adapter; see the README's ablation).")
    lora_r: int = option(16, "LoRA rank.")
    lora_alpha: int = option(32, "LoRA alpha.")
    lora_dropout: float = option(0.05, "LoRA dropout.")
    target_modules: tuple[str, ...] = option((), "Modules to adapt; empty means every linear layer.")
    quantization: str = option("auto", "auto (4-bit QLoRA on CUDA, none on CPU), 4bit or none.")
    epochs: float = option(1.0, "Epochs per stage (max steps win when set).")
    sft_max_steps: int = option(-1, "SFT steps; -1 runs the epochs.")
    dpo_max_steps: int = option(-1, "DPO steps; -1 runs the epochs.")
    learning_rate: float = option(1e-3, "Peak learning rate (knowledge injection into a small model; see bench/).")
    lr_scheduler: str = option("cosine", "Learning-rate schedule.")
    # 4 × 2 rather than 8 × 1: the same update, half the full-vocabulary logits in memory at once (≤ 4 GiB).
    batch_size: int = option(4, "Sequences per device step.")
    gradient_accumulation: int = option(2, "Steps accumulated per optimiser update.")
    max_length: int = option(0, "Longest sequence in tokens (0: the data's longest, up to 1024); longer pairs are "
                                "dropped and counted, never truncated.")
    eval_steps: int = option(50, "Validation loss every N steps.")
    eval_rows: int = option(48, "Validation rows scored each time (a fixed sample; 0: all), so evaluation stays cheap.")
    save_steps: int = option(50, "Checkpoint every N steps (a cancelled run resumes from the last one).")
    seed: int = option(13, "Seed for data order and initialisation.")
    dpo_beta: float = option(0.1, "DPO beta.")
    max_grad_norm: float = option(1.0, "Gradient clipping.")
    pairs: str = option("accepted", "accepted, or accepted+pending (unreviewed too).")
    tensorboard: bool = option(True, "Also write TensorBoard events under tb/ (when the tensorboard package is there).")
    time_budget_minutes: float = option(10.0, "The run ends within this many minutes: sized at launch, re-planned "
                                              "from measured throughput while it runs; 0 means no budget.")
    curriculum: bool = option(True, "Train on the most valuable facts the budget can cover (several phrasings, "
                                    "several passes) instead of a random share of the rows.")
    phrasings_per_fact: int = option(3, "Curriculum: phrasings of each fact trained on.")
    passes: int = option(3, "Curriculum: passes over the chosen facts.")
    grounded_rows: bool = option(True, "Curriculum: covered facts also in two phrasings with their index record "
                                       "among near misses in the prompt, so grounded answers (ask --grounded) "
                                       "read the records.")
    max_row_tokens: int = option(128, "Curriculum: rows longer than this (estimated tokens) are left out; the "
                                      "longest rows cost the most time and, through the logits, memory.")

    def __post_init__(self) -> None:
        self.target_modules = tuple(self.target_modules)
        if self.method not in ("sft", "dpo", "sft+dpo"):
            raise BadInputError("method must be sft, dpo or sft+dpo")
        if self.quantization not in ("auto", "4bit", "none"):
            raise BadInputError("quantization must be auto, 4bit or none")
        if self.pairs not in ("accepted", "accepted+pending"):
            raise BadInputError("pairs must be accepted or accepted+pending")
        self.require_at_least(1, "lora_r", "lora_alpha", "batch_size", "gradient_accumulation", "eval_steps",
                              "save_steps")
        self.require_at_least(0, "max_length", "time_budget_minutes", "eval_rows")
        self.require_at_least(1, "phrasings_per_fact", "passes", "max_row_tokens")
        if not 0 <= self.lora_dropout < 1 or self.learning_rate <= 0 or self.dpo_beta <= 0:
            raise BadInputError("lora_dropout must be in [0, 1); learning_rate and dpo_beta positive")


@dataclass
class EvalConfig(StageConfig):
    """How a run is evaluated against its base model on the dataset's test split."""

    limit: int = option(160, "Test items at most, spread evenly over families and test kinds (0: all).")
    test_kinds: tuple[str, ...] = option(("unseen_phrasing", "held_out_fact"),
                                         "Test kinds to evaluate: unseen_phrasing (trained facts, new wording) "
                                         "and/or held_out_fact (files never trained on).")
    batch_size: int = option(16, "Prompts per generation batch.")
    max_new_tokens: int = option(48, "Longest generated answer in tokens (greedy decoding).")
    line_tolerance: int = option(3, "A definition line counts as right when it is within this many lines.")
    with_context: bool = option(True, "Also score grounded answers: the index records retrieved for each question "
                                      "in the prompt (tuned+context, and base+context unless grounded_base is off).")
    grounded_base: bool = option(True, "Score the base model with the records too (the grounded baseline).")
    path_guard: bool = option(True, "Also score the tuned model with path-guarded decoding (tuned+guard).")
    name_check: bool = option(True, "Guarded and grounded answers to a question whose every code name is absent "
                                    "from the index are the index's abstention, not generated.")
    retention: bool = option(True, "Compare tuned and base answers on general programming prompts.")
    context_snippets: int = option(3, "Index records retrieved per question for grounded answers (as many as "
                                      "the training rows with evidence carry).")
    embedder: str = option("sentence-transformers/all-MiniLM-L6-v2", "Sentence embedder for similarity.")
    seed: int = option(13, "Seed for sampling the items.")

    def __post_init__(self) -> None:
        self.require_at_least(0, "limit", "line_tolerance", "context_snippets")
        self.require_at_least(1, "batch_size", "max_new_tokens")
        self.test_kinds = tuple(self.test_kinds)
        if not self.test_kinds or set(self.test_kinds) - {"unseen_phrasing", "held_out_fact"}:
            raise BadInputError("test_kinds must be unseen_phrasing and/or held_out_fact")


@dataclass
class HubConfig(StageConfig):
    """Where datasets and adapters go on the Hugging Face Hub, and who may see them."""

    endpoint: str = option("", "Hub address; empty: HF_ENDPOINT, else https://huggingface.co.")
    private: bool = option(True, "New repositories are private unless asked otherwise.")

    def resolved_endpoint(self) -> str:
        """The Hub address calls go to."""
        return (self.endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
