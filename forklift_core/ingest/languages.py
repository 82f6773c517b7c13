"""Language support as data: file patterns, ctags kind maps and tree-sitter queries."""

from __future__ import annotations

from functools import lru_cache

from dataclasses import dataclass, field

# Canonical kinds every extractor emits; ctags and tree-sitter kinds are mapped onto these.
TYPE_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "union", "type", "impl"})
# A function whose innermost scope is one of these is a method, whichever extractor saw it.
METHOD_SCOPES = frozenset({"class", "struct", "interface", "trait", "impl"})
DEFINITION_KINDS = frozenset({"function", "method"}) | TYPE_KINDS


@dataclass(frozen=True)
class LanguageSpec:
    """How ForkLift recognises and parses one language."""

    name: str
    extensions: tuple[str, ...]
    ctags_name: str
    comment_prefixes: tuple[str, ...]
    treesitter_name: str | None = None
    ctags_kinds: dict[str, str | None] = field(default_factory=dict)  # ctags kind -> canonical (None drops it)
    definition_query: str = ""  # captures @name inside @definition.<kind>
    reference_query: str = ""  # captures @call (a called name) and @use (a type name used)
    filenames: tuple[str, ...] = ()


_C_DEFINITIONS = """
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @definition.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @definition.function
(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.struct
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.union
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @definition.enum
(type_definition declarator: (type_identifier) @name) @definition.type
(preproc_def name: (identifier) @name) @definition.macro
(preproc_function_def name: (identifier) @name) @definition.macro
(declaration declarator: (function_declarator declarator: (identifier) @name)) @definition.prototype
"""
_CPP_DEFINITIONS = _C_DEFINITIONS + """
(class_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.class
(namespace_definition name: (namespace_identifier) @name) @definition.namespace
(function_definition declarator: (function_declarator declarator: (field_identifier) @name)) @definition.function
(function_definition declarator: (function_declarator declarator: (qualified_identifier name: (identifier) @name))) @definition.function
"""
_C_REFERENCES = """
(call_expression function: (identifier) @call)
(type_identifier) @use
"""
_CPP_REFERENCES = """
(call_expression function: [(identifier) @call
                            (field_expression field: (field_identifier) @call)
                            (qualified_identifier name: (identifier) @call)])
(type_identifier) @use
"""
_JS_DEFINITIONS = """
(class_declaration name: (_) @name) @definition.class
(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(method_definition name: (property_identifier) @name) @definition.method
"""
_JS_REFERENCES = """
(call_expression function: [(identifier) @call (member_expression property: (property_identifier) @call)])
(new_expression constructor: (identifier) @call)
"""
_TS_DEFINITIONS = _JS_DEFINITIONS + """
(abstract_class_declaration name: (type_identifier) @name) @definition.class
(interface_declaration name: (type_identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(type_alias_declaration name: (type_identifier) @name) @definition.type
"""
_TS_REFERENCES = _JS_REFERENCES + "(type_identifier) @use\n"

# Kinds shared by several ctags parsers; a language adds or overrides its own.
_COMMON_CTAGS = {
    "function": "function", "method": "method", "class": "class", "struct": "struct",
    "interface": "interface", "enum": "enum", "union": "union", "typedef": "type", "macro": "macro",
    "variable": "variable", "constant": "constant", "field": "field", "member": "field",
    "enumerator": "enumerator", "namespace": "namespace", "module": "module", "prototype": "prototype",
    "externvar": "variable", "property": "field", "getter": "method", "setter": "method",
    "generator": "function", "alias": "type", "package": None, "packageName": None, "unknown": None,
    "parameter": None, "local": None, "label": None, "header": None,
}

LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        name="Python", extensions=(".py", ".pyi"), ctags_name="Python", comment_prefixes=("#",),
        treesitter_name="python",
        ctags_kinds={**_COMMON_CTAGS, "member": "method", "namespace": None, "module": None},
        definition_query="""
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
""",
        reference_query="""
(call function: [(identifier) @call (attribute attribute: (identifier) @call)])
""",
    ),
    LanguageSpec(
        name="C", extensions=(".c", ".h"), ctags_name="C", comment_prefixes=("//", "/*", "*"),
        treesitter_name="c", ctags_kinds=_COMMON_CTAGS,
        definition_query=_C_DEFINITIONS, reference_query=_C_REFERENCES,
    ),
    LanguageSpec(
        name="C++", extensions=(".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"), ctags_name="C++",
        comment_prefixes=("//", "/*", "*"), treesitter_name="cpp", ctags_kinds=_COMMON_CTAGS,
        definition_query=_CPP_DEFINITIONS, reference_query=_CPP_REFERENCES,
    ),
    LanguageSpec(
        name="JavaScript", extensions=(".js", ".mjs", ".cjs", ".jsx"), ctags_name="JavaScript",
        comment_prefixes=("//", "/*", "*"), treesitter_name="javascript", ctags_kinds=_COMMON_CTAGS,
        definition_query=_JS_DEFINITIONS, reference_query=_JS_REFERENCES,
    ),
    LanguageSpec(
        name="TypeScript", extensions=(".ts", ".mts", ".cts"), ctags_name="TypeScript",
        comment_prefixes=("//", "/*", "*"), treesitter_name="typescript", ctags_kinds=_COMMON_CTAGS,
        definition_query=_TS_DEFINITIONS, reference_query=_TS_REFERENCES,
    ),
    LanguageSpec(
        name="TSX", extensions=(".tsx",), ctags_name="TypeScript",
        comment_prefixes=("//", "/*", "*"), treesitter_name="tsx", ctags_kinds=_COMMON_CTAGS,
        definition_query=_TS_DEFINITIONS, reference_query=_TS_REFERENCES,
    ),
    LanguageSpec(
        name="Go", extensions=(".go",), ctags_name="Go", comment_prefixes=("//",), treesitter_name="go",
        ctags_kinds={**_COMMON_CTAGS, "func": "function", "methodSpec": "method", "type": "type",
                     "const": "constant", "var": "variable", "anonMember": "field"},
        definition_query="""
(function_declaration name: (identifier) @name) @definition.function
(method_declaration name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(method_elem name: (field_identifier) @name) @definition.method
""",
        reference_query="""
(call_expression function: [(identifier) @call (selector_expression field: (field_identifier) @call)])
(type_identifier) @use
""",
    ),
    LanguageSpec(
        name="Rust", extensions=(".rs",), ctags_name="Rust", comment_prefixes=("//",), treesitter_name="rust",
        ctags_kinds={**_COMMON_CTAGS, "interface": "trait", "implementation": "impl", "typedef": "type"},
        definition_query="""
(struct_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(trait_item name: (type_identifier) @name) @definition.trait
(impl_item type: (type_identifier) @name) @definition.impl
(function_item name: (identifier) @name) @definition.function
(function_signature_item name: (identifier) @name) @definition.function
(macro_definition name: (identifier) @name) @definition.macro
(mod_item name: (identifier) @name) @definition.module
""",
        reference_query="""
(call_expression function: [(identifier) @call
                            (field_expression field: (field_identifier) @call)
                            (scoped_identifier name: (identifier) @call)])
(macro_invocation macro: (identifier) @call)
(type_identifier) @use
""",
    ),
    LanguageSpec(
        name="Java", extensions=(".java",), ctags_name="Java", comment_prefixes=("//", "/*", "*"),
        treesitter_name="java", ctags_kinds={**_COMMON_CTAGS, "enumConstant": "enumerator"},
        definition_query="""
(class_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(method_declaration name: (identifier) @name) @definition.method
(constructor_declaration name: (identifier) @name) @definition.method
""",
        reference_query="""
(method_invocation name: (identifier) @call)
(object_creation_expression type: (type_identifier) @call)
(type_identifier) @use
""",
    ),
    # ctags-only languages: indexed when Universal Ctags is present, skipped by the tree-sitter fallback.
    LanguageSpec(name="Ruby", extensions=(".rb",), ctags_name="Ruby", comment_prefixes=("#",),
                 ctags_kinds={**_COMMON_CTAGS, "singletonMethod": "method"}),
    LanguageSpec(name="PHP", extensions=(".php",), ctags_name="PHP", comment_prefixes=("//", "#", "/*", "*"),
                 ctags_kinds=_COMMON_CTAGS),
    LanguageSpec(name="C#", extensions=(".cs",), ctags_name="C#", comment_prefixes=("//", "/*", "*"),
                 ctags_kinds=_COMMON_CTAGS),
    LanguageSpec(name="Kotlin", extensions=(".kt", ".kts"), ctags_name="Kotlin", comment_prefixes=("//", "/*", "*"),
                 ctags_kinds=_COMMON_CTAGS),
    LanguageSpec(name="Sh", extensions=(".sh", ".bash"), ctags_name="Sh", comment_prefixes=("#",),
                 ctags_kinds={**_COMMON_CTAGS, "script": None, "heredoc": None}),
    LanguageSpec(name="Lua", extensions=(".lua",), ctags_name="Lua", comment_prefixes=("--",),
                 ctags_kinds=_COMMON_CTAGS),
)

# Text files ForkLift keeps in the file table (docs and build files) without extracting symbols.
DOC_EXTENSIONS = frozenset({".md", ".rst", ".txt", ".adoc"})
BUILD_FILENAMES = frozenset({
    "Makefile", "makefile", "GNUmakefile", "CMakeLists.txt", "pyproject.toml", "setup.py", "setup.cfg",
    "package.json", "Cargo.toml", "go.mod", "meson.build", "build.gradle", "pom.xml",
})

_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}
_BY_NAME = {spec.name: spec for spec in LANGUAGES}


@lru_cache(maxsize=1 << 16)  # asked once per tag and per name use: a kernel tree asks millions of times
def language_for(path: str) -> LanguageSpec | None:
    """The language of a repo-relative path, by its extension; None when it is not code."""
    return _BY_EXTENSION.get(_suffix(path))


def _suffix(path: str) -> str:
    """A path's extension in lower case, as PurePosixPath.suffix gives it (string operations: a path object per
    walked file was a tenth of the walk)."""
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def language_named(name: str) -> LanguageSpec:
    """The spec for a canonical language name."""
    return _BY_NAME[name]


def file_category(path: str) -> str:
    """'code', 'doc', 'build' or 'other' for a repo-relative path."""
    name = path.rpartition("/")[2]
    if name in BUILD_FILENAMES:
        return "build"
    if language_for(path) is not None:
        return "code"
    if _suffix(path) in DOC_EXTENSIONS or name.upper().startswith(("README", "CONTRIBUTING")):
        return "doc"
    return "other"


def canonical_kind(kind: str, scope_kind: str | None) -> str:
    """Promote a function declared inside a class-like scope to a method (both extractors share this)."""
    if kind == "function" and scope_kind in METHOD_SCOPES:
        return "method"
    return kind
