"""Decoding candidates: which prompt shape and temperature each one gets, when to stop it, and
how candidates rank once their examples have run."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ghostwright.server.actions.base import ActionContext, InvalidAnswer
from ghostwright.server.actions.code_blocks import extract_code
from ghostwright.server.actions.edits import Replacement
from ghostwright.server.actions.implement.answer import build
from ghostwright.server.actions.implement.prompts import continued_prefill
from ghostwright.server.actions.python_code import resume_after_docstring
from ghostwright.server.actions.targets import FunctionTarget
from ghostwright.server.chat_runner import ChatCall, ChatResult
from ghostwright.server.repetition import code_is_looping
from ghostwright.server.verify.candidate_choice import Voter
from ghostwright.server.verify.doctest_check import CheckResult

MAX_TOKENS = 384  # the answer restates the docstring first: HumanEval's longest need ~300 tokens
TOP_LEVEL_END = re.compile(r"\n(if __name__|print\(|assert |# (Example|Test)|[A-Za-z_]\w* = )")
TEMPERATURE = 0.5  # HumanEval 0-40, 8 candidates: 0.3 → 8 pass, 0.5 → 11, 0.8 → 9
MAX_TEMPERATURE = 0.9
REPEAT_WARMING = 0.1
SEED_BASE = 1000
RESTATE, CONTINUE = "restate", "continue"  # the answer restates the function / continues the user's stub
BODY_FIRST_EXCLUDES = ("\n", "`")  # left alone, the model closes the block again right after the docstring


@dataclass
class Candidate:
    index: int
    temperature: float
    replacements: list[Replacement]
    mean_logprob: float
    check: CheckResult | None = None
    special_cased: bool = False  # it answers the examples by rote (see candidate_choice)
    votes: int = 1  # decodes that gave this very candidate
    support: float = 0.0  # how much the other decodes behave like it on the probe inputs

    @property
    def verified(self) -> bool:
        return bool(self.check and self.check.all_passed and not self.special_cased)

    @property
    def passed(self) -> int:
        return -1 if self.special_cased else (self.check.passed if self.check else 0)

    def voter(self) -> Voter:
        total = self.check.total if self.check else 0
        weight = 0.0 if self.special_cased or not total else self.passed / total
        return Voter(self.check.outputs if self.check else (), weight, self.votes)

    def rank(self) -> tuple[bool, int, float, int, float]:
        return (self.verified, self.passed, self.support, self.votes, self.mean_logprob)


def finished_or_looping(text: str) -> bool:
    """True once decoding more cannot help: top-level code after the function, or a looping answer."""
    return bool(TOP_LEVEL_END.search(text)) or code_is_looping(text)


def plan(index: int, repeats: int = 0, first: str = RESTATE) -> tuple[str, float]:
    """Candidate ``index``'s prompt shape and temperature: greedy in both shapes (``first``
    first), then sampled, alternating. Each answer that repeated an earlier one warms the sampling
    a little: a cool temperature writes more correct code, but only distinct candidates can be verified."""
    shape = first if index % 2 == 0 else (CONTINUE if first == RESTATE else RESTATE)
    return shape, (0.0 if index < 2 else round(min(MAX_TEMPERATURE, TEMPERATURE + REPEAT_WARMING * repeats), 2))


def candidate_call(ctx: ActionContext, target: FunctionTarget, messages: list[dict[str, str]], prefill: str,
                   stop: list[str], index: int, shape: str, temperature: float, label: str) -> ChatCall:
    """Candidate ``index``'s model call. A continued one starts after the stub's docstring, on the
    body's indentation, and its first token may not end the line or the block, so the model's next
    tokens can only be the body."""
    seed = None if temperature == 0 else SEED_BASE + index
    if shape == CONTINUE:
        return ctx.chat_call(messages, max_tokens=MAX_TOKENS, label=label, temperature=temperature, seed=seed,
                             stop=stop, prefill=continued_prefill(ctx, target, prefill), stop_when=finished_or_looping,
                             first_token_excludes=BODY_FIRST_EXCLUDES, heal_last_token=True)
    return ctx.chat_call(messages, max_tokens=MAX_TOKENS, label=label, temperature=temperature, seed=seed,
                         stop=stop, prefill=prefill, stop_when=finished_or_looping)


async def read_candidate(ctx: ActionContext, target: FunctionTarget, call: ChatCall, result: ChatResult,
                         shape: str, label: str) -> tuple[list[Replacement], float, bool]:
    """A decoded candidate's replacements, mean log-probability and whether it was resumed;
    InvalidAnswer when it has none.

    A restated answer that stopped before its body is resumed once (a model call of its own),
    from its own docstring and the body's indentation, as a continued one starts."""
    try:
        return build(ctx, target, result.text, call.prefill), result.mean_logprob, False
    except InvalidAnswer:
        resumed = None if shape == CONTINUE else resume_after_docstring(extract_code(result.text, call.prefill),
                                                                         target.name)
        if resumed is None:
            raise
    resumed = call.prefill + resumed
    result = await ctx.chat(call.messages, max_tokens=call.max_tokens, label=f"{label}, resumed",
                            temperature=call.temperature, seed=call.seed, stop=call.stop, prefill=resumed,
                            stop_when=finished_or_looping, first_token_excludes=BODY_FIRST_EXCLUDES,
                            heal_last_token=True)
    return build(ctx, target, result.text, resumed), result.mean_logprob, True
