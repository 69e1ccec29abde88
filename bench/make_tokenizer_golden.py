"""Record llama.cpp's token ids for a shipped model on tricky samples.

The tokenizer test compares our `tokenizers` build of the GGUF vocabulary with these ids.
Needs llama-cpp-python (see bench/README.md); rerun only if the samples change:

    python bench/make_tokenizer_golden.py PATH/TO/SmolLM2-135M-Instruct.Q4_1.gguf smollm2
    python bench/make_tokenizer_golden.py PATH/TO/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf qwen2.5-coder
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SAMPLES = [
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "const x = [1, 2, 3].map((v) => v * 2);\n// héllo wörld",
    "naïve café — 你好，世界 🙂👍🏽 emoji",
    "\tindented\twith\ttabs\n\n\n  trailing spaces   ",
    "numbers 1234567890 3.14159 0xFF 1e-9",
    "<|im_start|>user\nhi<|im_end|> <|endoftext|> plain text",
    "SELECT * FROM users WHERE id = 42; -- comment",
    "    def __init__(self, *args, **kwargs) -> None:\r\n        pass\r\n",
    "https://example.com/path?query=1&x=y#frag",
    "αβγ δεζ ηθι ...!!! ??? ''' \"\"\" ```python",
    "x" + " " * 17 + "y\n\n\n\n" + "\t" * 5 + "z        \n",  # whitespace runs
    "1 12 123 1234 12345 123456 99999999999 0.000001 1,000,000",  # digit groups
    "<|fim_prefix|>def f(<|fim_suffix|>)<|fim_middle|> <|file_sep|>a.py <|repo_name|>r",  # FIM spellings as text
]


def main() -> None:
    from llama_cpp import Llama

    llm = Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)
    cases = [{"text": s, "ids": llm.tokenize(s.encode(), add_bos=False, special=False)} for s in SAMPLES]
    name = sys.argv[2] if len(sys.argv) > 2 else "smollm2"
    out = Path(__file__).resolve().parent.parent / f"tests/unit/export/golden/{name}_llama_cpp_tokens.json"
    out.write_text(json.dumps({"llama_cpp_python": "0.3.36", "cases": cases}, ensure_ascii=False, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
