"""Implement from docstring: verified NL→code.

A function whose body is empty, ``pass``, ``...`` or a TODO gets a body written from its
signature and docstring (or the comment above it). Several candidates are decoded in two
prompt shapes (restating the function, or continuing the user's stub) — greedy first, then
sampled with fixed seeds; one that restates the function but stops before its body is resumed
from its docstring — and the docstring's own examples (see :mod:`doctest_check`) run against
each in the sandbox, then probe inputs near them (see :mod:`candidate_choice`). The winner
passes the most examples (all of them, ideally; one that special-cases them passes none), ties
broken by how much the other decodes agree with it on the probes, then by the model's mean
log-probability. The result says what was verified ("3/3 examples pass"), and the log keeps
every candidate's evidence.
"""

from __future__ import annotations

import asyncio
import logging
import re
import textwrap
from collections import Counter
from dataclasses import dataclass

from ghostwright.server.actions.base import (
    ActionContext,
    ActionError,
    ActionResult,
    InvalidAnswer,
    Offer,
)
from ghostwright.server.actions.candidate_choice import Voter, special_cases_examples, support
from ghostwright.server.actions.code_blocks import extract_code
from ghostwright.server.actions.edits import Replacement
from ghostwright.server.actions.python_code import (
    defined_names,
    function_body,
    helper_definitions,
    import_insert_offset,
    indent_body,
    new_imports,
    parameter_names,
    rename_lone_function,
    resume_after_docstring,
)
from ghostwright.server.actions.targets import FunctionTarget, function_at, module_imports, top_level_definitions
from ghostwright.server.context.document import Document
from ghostwright.server.doctest_check import CheckResult, check_candidate, extract_examples
from ghostwright.server.probe_inputs import probe_calls

log = logging.getLogger(__name__)

ID = "implement"
KIND = "refactor.rewrite"
MAX_TOKENS = 384  # the answer restates the docstring first: HumanEval's longest need ~300 tokens
DEFAULT_SAMPLES = 16  # candidates at most: 2 greedy + 14 sampled (fewer when one passes every example)
REPEATS = 4  # a non-trivial line written this often: the answer is looping, stop it
SHORT_RUN = 6  # the same (short) line this many times in a row: looping too
PHRASE_MIN_CHARS = 48  # a piece repeated at the end of the text over this many characters: looping
TOP_LEVEL_END = re.compile(r"\n(if __name__|print\(|assert |# (Example|Test)|[A-Za-z_]\w* = )")
MAX_SAMPLES = 16
TEMPERATURE = 0.5  # HumanEval 0-40, 8 candidates: 0.3 → 8 pass, 0.5 → 11, 0.8 → 9
MAX_TEMPERATURE = 0.9
REPEAT_WARMING = 0.1
# Decodes after the first verified candidate, for other verified ones and votes to choose by
# agreement. 0 by default: on the 29 HumanEval tasks with a verified candidate, 4 more decodes
# found no second verified answer that was better, lost one coin flip (16/29 vs 17/29) and cost 3 min.
CONFIRM = 0
CONTEXT_CHARS = 1500  # neighbouring definitions shown to the model, nearest first
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


def offers(doc: Document, start: int, end: int) -> list[Offer]:
    target = function_at(doc, start, end)
    if target is None or not target.is_stub or not (target.docstring or target.comment):
        return []
    source = "docstring" if target.docstring else "comment"
    return [Offer(ID, f"Implement {target.name} from its {source}", KIND,
                  {"function": target.name, "offset": target.start})]


def find_target(ctx: ActionContext) -> FunctionTarget:
    offset = ctx.data.get("offset")
    target = function_at(ctx.doc, offset) if isinstance(offset, int) and 0 <= offset <= len(ctx.text) else None
    if target is None or target.name != ctx.data.get("function"):
        raise ActionError(f"the function {ctx.data.get('function')!r} is no longer where it was")
    if not target.is_stub:
        raise ActionError(f"{target.name} already has a body")
    return target


def prompt(ctx: ActionContext, target: FunctionTarget) -> tuple[list[dict[str, str]], str, list[str]]:
    """Chat messages, the assistant prefill and stop strings.

    The function is shown as code in the user turn and the answer is started with a fence: the
    default model then restates the function with a body. Starting the answer with the function
    itself (so it only continues the body) does worse: it takes the code for finished and closes
    the fence (measured on HumanEval)."""
    code = _shown_code(ctx.doc, target)
    what = "docstring" if target.docstring else "comment"
    user = (f"Complete the following Python function (see its {what}). Reply with the whole function in one "
            f"```python code block.\n\n```python\n{code}```")
    return ctx.messages(user), "```python\n", ["\n```"]


def continued_prefill(ctx: ActionContext, target: FunctionTarget, prefill: str) -> str:
    """The answer started as the user's own stub, opened onto the body's first line.

    A second way to ask: the model writes only the body (its first token barred from closing the
    block), under the very docstring the user wrote. It fails differently from restating the
    function, so mixing both shapes gives more distinct candidates, and it decodes fewer tokens."""
    stub = _stub_text(ctx.text, target)
    opened = resume_after_docstring(stub, target.name) if target.docstring else None
    return prefill + (opened if opened is not None else stub.rstrip() + "\n    ")


def _stub_text(text: str, target: FunctionTarget) -> str:
    """The function up to its docstring (or header), dedented to column 0, ending in a new line."""
    head_end = target.doc_end if target.doc_end is not None else target.header_end
    start = text.rfind("\n", 0, target.outer_start) + 1
    stub = textwrap.dedent(text[start:head_end]).rstrip() + "\n"
    if target.docstring is None and target.comment:
        stub = "".join(f"# {line}\n" for line in target.comment.split("\n")) + stub
    return stub


def _shown_code(doc: Document, target: FunctionTarget) -> str:
    imports = "\n".join(module_imports(doc))
    neighbours: list[str] = []
    budget = CONTEXT_CHARS
    for definition in reversed(top_level_definitions(doc, target)):
        if doc.text.find(definition) > target.start or len(definition) > budget:
            continue  # after the function, or too long for the small context
        neighbours.insert(0, definition)
        budget -= len(definition)
    stub = _stub_text(doc.text, target)
    parts = [p for p in (imports, *neighbours) if p.strip()]
    return "\n\n".join([*parts, stub.rstrip()]) + "\n" if parts else stub


def build(ctx: ActionContext, target: FunctionTarget, answer: str, prefill: str) -> list[Replacement]:
    """The answer as replacements: the new body after the docstring, and imports it needs."""
    code = extract_code(answer, prefill)
    if not code.strip():
        raise InvalidAnswer("the answer has no code")
    try:
        body = function_body(code, target.name)
    except InvalidAnswer:
        parameters = parameter_names(_stub_text(ctx.text, target))
        renamed = None if parameters is None else rename_lone_function(code, target.name, len(parameters),
                                                                       defined_names(ctx.text))
        if renamed is None:
            raise
        code = renamed
        body = function_body(code, target.name)
    start, end = target.stub_span()
    replacements = [Replacement(start, end, "\n" + indent_body(body, target.indent))]
    helpers = helper_definitions(code, body, ctx.text)
    if helpers and not target.in_class:  # functions the body calls that the model wrote beside it
        line_start = ctx.text.rfind("\n", 0, target.outer_start) + 1
        replacements.insert(0, Replacement(line_start, line_start,
                                           "".join(textwrap.indent(h, target.def_indent) + "\n\n\n" for h in helpers)))
    imports = new_imports(code, ctx.text)
    if imports:
        at = import_insert_offset(ctx.text)
        if at > target.outer_start:
            at = 0
        lead = "\n" if at and not ctx.text[:at].endswith("\n") else ""
        replacements.insert(0, Replacement(at, at, lead + "\n".join(imports) + "\n" + ("\n" if at == 0 else "")))
    return replacements


def finished_or_looping(text: str) -> bool:
    """True once decoding more cannot help: top-level code after the function, or a looping answer
    (a line written again and again, the same short lines in a row, a phrase repeating in a line)."""
    if TOP_LEVEL_END.search(text):
        return True
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    counts = Counter(line for line in lines if len(line) > 6)
    if counts and counts.most_common(1)[0][1] >= REPEATS:
        return True
    if len(lines) >= SHORT_RUN and len(set(lines[-SHORT_RUN:])) == 1:
        return True
    return repeats_at_end(text)


def repeats_at_end(text: str) -> bool:
    """The text ends in one piece of 2-12 characters (not all one character) written over and over."""
    for size in range(2, 13):
        piece = text[-size:]
        times = max(PHRASE_MIN_CHARS // size, 4)
        if len(set(piece)) > 1 and len(text) >= size * times and text.endswith(piece * times):
            return True
    return False


def plan(index: int, repeats: int = 0) -> tuple[str, float]:
    """Candidate ``index``'s prompt shape and temperature: greedy in both shapes, then sampled,
    alternating. Each answer that repeated an earlier one warms the sampling a little: a cool
    temperature writes more correct code, but only distinct candidates can be verified."""
    shape = RESTATE if index % 2 == 0 else CONTINUE
    return shape, (0.0 if index < 2 else round(min(MAX_TEMPERATURE, TEMPERATURE + REPEAT_WARMING * repeats), 2))


async def decode_candidate(ctx: ActionContext, target: FunctionTarget, messages: list[dict[str, str]],
                           prefill: str, stop: list[str], index: int, shape: str, temperature: float,
                           label: str) -> tuple[list[Replacement], float, bool]:
    """One candidate's replacements, mean log-probability and whether it was resumed; InvalidAnswer
    when it has none.

    A restated answer that stopped before its body is resumed once, from its own docstring and
    the body's indentation; a continued one starts there. Either way the first token after that
    indentation may not end the line or the block, so the model's next tokens can only be the body."""
    seed = None if temperature == 0 else SEED_BASE + index
    if shape == CONTINUE:
        opened = continued_prefill(ctx, target, prefill)
        result = await ctx.chat(messages, max_tokens=MAX_TOKENS, label=label, temperature=temperature, seed=seed,
                                stop=stop, prefill=opened, stop_when=finished_or_looping,
                                first_token_excludes=BODY_FIRST_EXCLUDES, heal_last_token=True)
        return build(ctx, target, result.text, opened), result.mean_logprob, False
    result = await ctx.chat(messages, max_tokens=MAX_TOKENS, label=label, temperature=temperature, seed=seed,
                            stop=stop, prefill=prefill, stop_when=finished_or_looping)
    try:
        return build(ctx, target, result.text, prefill), result.mean_logprob, False
    except InvalidAnswer:
        resumed = resume_after_docstring(extract_code(result.text, prefill), target.name)
        if resumed is None:
            raise
    resumed = prefill + resumed
    result = await ctx.chat(messages, max_tokens=MAX_TOKENS, label=f"{label}, resumed", temperature=temperature,
                            seed=seed, stop=stop, prefill=resumed, stop_when=finished_or_looping,
                            first_token_excludes=BODY_FIRST_EXCLUDES, heal_last_token=True)
    return build(ctx, target, result.text, resumed), result.mean_logprob, True


def check_chunks(ctx: ActionContext, target: FunctionTarget, replacements: list[Replacement]) -> list[tuple[str, bool]]:
    """What the example run loads: imports, the neighbours, then the candidate (whose failure counts)."""
    body = replacements[-1]
    line_start = ctx.text.rfind("\n", 0, target.outer_start) + 1
    function = textwrap.dedent(ctx.text[line_start : body.start] + body.new_text) + "\n"
    added = [textwrap.dedent(r.new_text) for r in replacements[:-1]]  # new imports and helpers
    chunks: list[tuple[str, bool]] = [(line, False) for line in [*module_imports(ctx.doc), *added]]
    chunks += [(definition, False) for definition in top_level_definitions(ctx.doc, target)]
    chunks.append((function, True))
    return chunks


async def run(ctx: ActionContext) -> ActionResult:
    target = find_target(ctx)
    messages, prefill, stop = prompt(ctx, target)
    parameters = parameter_names(_stub_text(ctx.text, target))
    examples = (extract_examples(target.docstring, target.name, parameters)
                if target.docstring and not target.in_class else [])
    probes = probe_calls(examples, target.name)
    samples = ctx.data.get("samples", DEFAULT_SAMPLES)
    if not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= MAX_SAMPLES:
        raise ActionError(f"samples must be 1..{MAX_SAMPLES}, got {samples!r}")
    confirm = ctx.data.get("confirm", CONFIRM)
    if not isinstance(confirm, int) or isinstance(confirm, bool) or not 0 <= confirm < MAX_SAMPLES:
        raise ActionError(f"confirm must be 0..{MAX_SAMPLES - 1}, got {confirm!r}")
    candidates: list[Candidate] = []
    evidence: list[str] = []
    invalid: list[str] = []
    decoded = repeats = 0
    first_verified: int | None = None
    for index in range(samples):
        if first_verified is not None and index > first_verified + confirm:
            break
        decoded = index + 1
        shape, temperature = plan(index, repeats)
        label = f"candidate {index + 1}/{samples} ({shape})" + (f", {len(examples)} examples" if examples else "")
        try:
            replacements, mean_logprob, resumed = await decode_candidate(ctx, target, messages, prefill, stop, index,
                                                                         shape, temperature, label)
        except InvalidAnswer as exc:
            invalid.append(f"candidate {index + 1}: {exc}")
            evidence.append(f"candidate {index + 1} ({shape}, t={temperature}): unusable: {exc}")
            continue
        problems = ctx.problems(replacements)
        if problems:
            invalid.append(f"candidate {index + 1}: {'; '.join(problems)}")
            evidence.append(f"candidate {index + 1} ({shape}, t={temperature}): does not parse: {'; '.join(problems)}")
            continue
        same = next((c for c in candidates if c.replacements == replacements), None)
        if same is not None:
            repeats += 1
            same.votes += 1
            evidence.append(f"candidate {index + 1} ({shape}, t={temperature}): same as candidate {same.index}")
            continue
        candidate = Candidate(index + 1, temperature, replacements, mean_logprob)
        if examples:
            ctx.progress.report(f"{label}: running the examples in the sandbox")
            chunks = check_chunks(ctx, target, replacements)
            candidate.check = await asyncio.to_thread(check_candidate, chunks, examples, probes=probes)
            candidate.special_cased = special_cases_examples(chunks[-1][0], parameters or [], examples, target.name)
            ctx.check_cancelled()
        candidates.append(candidate)
        verdict = candidate.check.summary() if candidate.check else "no examples to run"
        if candidate.check and candidate.check.error:
            verdict += f" ({candidate.check.error})"
        if candidate.special_cased:
            verdict += "; it special-cases the examples, so it counts as passing none"
        how = f"{shape}, t={temperature}" + (", resumed after its docstring" if resumed else "")
        evidence.append(f"candidate {index + 1} ({how}, mean logprob {mean_logprob:.3f}): {verdict}")
        evidence += [f"    {line}" for line in (candidate.check.evidence if candidate.check else ())]
        if not examples:
            break  # nothing to verify: greedy is the likeliest
        if candidate.verified and first_verified is None:
            first_verified = index
    if not candidates:
        raise ActionError(f"no valid implementation of {target.name} in {samples} candidates"
                          f" ({invalid[-1] if invalid else 'no answer'})")
    for candidate, score in zip(candidates, support([c.voter() for c in candidates]), strict=True):
        candidate.support = score
    best = max(candidates, key=Candidate.rank)
    if probes and len(candidates) > 1:
        evidence.append(f"{len(probes)} probe inputs, e.g. {probes[0]}; support: "
                        + ", ".join(f"candidate {c.index} {c.support:.2f} ({c.votes} vote{'s' if c.votes > 1 else ''})"
                                    for c in candidates))
    tried = decoded  # duplicates and unusable answers included
    if best.check is None:
        what = "not verified: the docstring has no examples" if not examples else "not verified"
    else:
        what = best.check.summary() + ("" if best.verified else " (best of the candidates)")
        if best.verified and len([c for c in candidates if c.verified]) > 1:
            what += f", chosen by agreement on {len(probes)} probe inputs"
    message = f"Implemented {target.name}: {what}; candidate {best.index} of {tried} tried"
    log.info("implement %s: %s\n%s", target.name, message, "\n".join(evidence))
    return ActionResult(best.replacements, message, evidence=evidence)
