"""Open-model text engines (docs/engines.md, "lyrics-lm").

- `lyrics-lm` (lyrics_lm.py): write_lyrics with a small instruct LM through
  transformers (`AutoModelForCausalLM` + the tokenizer's chat template), in a
  child process; parse.py turns its answer into Suno's {title, text} sheets.

Nothing here imports torch or transformers at import time: the registry
factory (factory.py) is cheap, and only the engine's child loads them.
"""
