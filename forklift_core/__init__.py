"""ForkLift core: teach a language model one codebase. Importing it never imports gradio."""

__version__ = "0.1.0"
