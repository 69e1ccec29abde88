"""The Implement action itself: find the stub, decode candidates until one is verified, choose."""

from __future__ import annotations

import asyncio
import logging

from ghostwright.server.actions.base import ActionContext, ActionError, ActionResult, InvalidAnswer, Offer
from ghostwright.server.actions.implement.answer import check_chunks
from ghostwright.server.actions.implement.candidates import (
    CONTINUE,
    RESTATE,
    Candidate,
    candidate_call,
    plan,
    read_candidate,
)
from ghostwright.server.actions.implement.prompts import prompt, stub_text
from ghostwright.server.actions.python_code import parameter_names
from ghostwright.server.actions.targets import FunctionTarget, function_at
from ghostwright.server.context.document import Document
from ghostwright.server.verify.candidate_choice import special_cases_examples, support
from ghostwright.server.verify.doctest_check import check_candidate
from ghostwright.server.verify.examples import extract_examples
from ghostwright.server.verify.probe_inputs import probe_calls
from ghostwright.server.verify.sandbox import SandboxUnavailable

log = logging.getLogger(__name__)

ID = "implement"
KIND = "refactor.rewrite"
DEFAULT_SAMPLES = 16  # candidates at most: 2 greedy + 14 sampled (fewer when one passes every example)
MAX_SAMPLES = 16
# Candidates decoded together as one batch, after the first (greedy) one was not verified: a
# step over 4 rows costs ~1.9 single steps on 2 cores (bench/README.md), so a task that needs
# many candidates takes about half the time; the first stays alone, since most tasks are
# verified by it and a batch would only slow them down. 1: one at a time.
TOGETHER = 4
# The first candidate continues the user's stub from its body's first line instead of restating
# the function: it writes only the body, not the docstring again. On 41 HumanEval tasks (every
# 4th), same build: median 10.8 → 7.3 s a task, mean 28.6 → 25.7 s, 31/41 against 30/41 passing
# (bench/README.md). The second greedy candidate is then the restated one.
FIRST_SHAPE = CONTINUE
# Decodes after the first verified candidate, for other verified ones and votes to choose by
# agreement. 0 by default: on the 29 HumanEval tasks with a verified candidate, 4 more decodes
# found no second verified answer that was better, lost one coin flip (16/29 vs 17/29) and cost 3 min.
CONFIRM = 0


def offers(doc: Document, start: int, end: int) -> list[Offer]:
    target = function_at(doc, start, end)
    if target is None or not target.is_stub or not (target.docstring or target.comment):
        return []
    source = "docstring" if target.docstring else "comment"
    return [Offer(ID, f"Implement {target.name} from its {source}", KIND,
                  {"function": target.name, "offset": target.start})]


def rounds(samples: int, together: int) -> list[tuple[int, int]]:
    """(first candidate, how many) per batch: the first candidate alone, then ``together`` at a time."""
    spans = [(0, 1)]
    for first in range(1, samples, together):
        spans.append((first, min(together, samples - first)))
    return spans


def find_target(ctx: ActionContext) -> FunctionTarget:
    offset = ctx.data.get("offset")
    target = function_at(ctx.doc, offset) if isinstance(offset, int) and 0 <= offset <= len(ctx.text) else None
    if target is None or target.name != ctx.data.get("function"):
        raise ActionError(f"the function {ctx.data.get('function')!r} is no longer where it was")
    if not target.is_stub:
        raise ActionError(f"{target.name} already has a body")
    return target


async def run(ctx: ActionContext) -> ActionResult:
    target = find_target(ctx)
    messages, prefill, stop = prompt(ctx, target)
    parameters = parameter_names(stub_text(ctx.text, target))
    examples = (extract_examples(target.docstring, target.name, parameters)
                if target.docstring and not target.in_class else [])
    probes = probe_calls(examples, target.name)
    samples = ctx.data.get("samples", DEFAULT_SAMPLES)
    if not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= MAX_SAMPLES:
        raise ActionError(f"samples must be 1..{MAX_SAMPLES}, got {samples!r}")
    confirm = ctx.data.get("confirm", CONFIRM)
    if not isinstance(confirm, int) or isinstance(confirm, bool) or not 0 <= confirm < MAX_SAMPLES:
        raise ActionError(f"confirm must be 0..{MAX_SAMPLES - 1}, got {confirm!r}")
    first_shape = ctx.data.get("firstShape", FIRST_SHAPE)
    if first_shape not in (RESTATE, CONTINUE):
        raise ActionError(f"firstShape must be {RESTATE!r} or {CONTINUE!r}, got {first_shape!r}")
    together = ctx.data.get("together", TOGETHER)
    if not isinstance(together, int) or isinstance(together, bool) or not 1 <= together <= MAX_SAMPLES:
        raise ActionError(f"together must be 1..{MAX_SAMPLES}, got {together!r}")
    candidates: list[Candidate] = []
    evidence: list[str] = []
    invalid: list[str] = []
    decoded = repeats = 0
    last_wanted: int | None = None  # the last candidate worth reading, once one is verified (or nothing can be)
    for first, size in rounds(samples, together if examples else 1):  # no examples: the first valid one wins
        if last_wanted is not None and first > last_wanted:
            break
        if last_wanted is not None:
            size = min(size, last_wanted - first + 1)
        planned = [(index, *plan(index, repeats, first_shape)) for index in range(first, first + size)]
        labels = [f"candidate {index + 1}/{samples} ({shape})" + (f", {len(examples)} examples" if examples else "")
                  for index, shape, _ in planned]
        calls = [candidate_call(ctx, target, messages, prefill, stop, index, shape, temperature, label)
                 for (index, shape, temperature), label in zip(planned, labels, strict=True)]
        results = await ctx.chat_many(calls, labels[0] if size == 1 else f"candidates {first + 1}–{first + size}")
        for (index, shape, temperature), label, call, result in zip(planned, labels, calls, results, strict=True):
            if last_wanted is not None and index > last_wanted:
                break
            decoded = index + 1
            try:
                replacements, mean_logprob, resumed = await read_candidate(ctx, target, call, result, shape, label)
            except InvalidAnswer as exc:
                invalid.append(f"candidate {index + 1}: {exc}")
                evidence.append(f"candidate {index + 1} ({shape}, t={temperature}): unusable: {exc}")
                continue
            problems = ctx.problems(replacements)
            if problems:
                invalid.append(f"candidate {index + 1}: {'; '.join(problems)}")
                evidence.append(f"candidate {index + 1} ({shape}, t={temperature}): does not parse: "
                                f"{'; '.join(problems)}")
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
                try:
                    candidate.check = await asyncio.to_thread(check_candidate, chunks, examples, probes=probes)
                except SandboxUnavailable as exc:
                    raise ActionError(str(exc)) from exc
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
                last_wanted = index  # nothing to verify: greedy is the likeliest
                break
            if candidate.verified and last_wanted is None:  # the first verified one
                last_wanted = index + confirm
    if not candidates:
        raise ActionError(f"no valid implementation of {target.name} in {samples} candidates"
                          f" ({invalid[-1] if invalid else 'no answer'})")
    for candidate, score in zip(candidates, support([c.voter() for c in candidates]), strict=True):
        candidate.support = score
    best = max(candidates, key=Candidate.rank)
    if examples and best.passed <= 0:  # code that fails every example the user wrote is not an implementation
        log.info("implement %s: refused, no candidate passes an example\n%s", target.name, "\n".join(evidence))
        raise ActionError(f"no valid implementation of {target.name}: none of {len(candidates)} candidates passes any "
                          f"of its {len(examples)} example(s) (0/{len(examples)} examples pass)")
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
