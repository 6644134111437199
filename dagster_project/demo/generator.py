"""Seeded demo landing zone: realistic files for all three source families, with planted effects.

    python -m dagster_project.demo.generator --landing data/landing --scale demo [--seed 2024]
        [--waves 2020,2021,2022,2023,2024] [--label-valued]

`generate_demo_landing` writes every file under the landing directory in the landing contract's shapes
(docs/raw-tables.md lists what ingest makes of them), then `demo_truth.json` with the realized exact figures the
warehouse must reproduce (survey sample estimates, registry counts per month, 5W consolidated sums), and returns
the same dict. The planted parameters are in truth.yaml; TRUTH.md says where each appears in the marts.

Each family draws from its own random stream (seed, family), so changing one family's sizes leaves the others'
files unchanged; ENAHO waves other than the survey year draw from (seed, enaho, wave), so adding waves leaves the
survey year's files unchanged; ENPOVE 2022 (enpove.py) has its own stream too. Same seed, scale and options → same
file contents.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .enpove import generate_enpove
from .io_utils import atomic_path
from .partners import generate_partners
from .registry import generate_registry
from .survey import generate_surveys
from .truth import derived_expectations, load_truth, resolve_sizes
from .unhcr import generate_unhcr

TRUTH_JSON = "demo_truth.json"
STREAMS = {"enaho": 1, "enahopv": 2, "registry": 3, "fivew": 4, "beneficiaries": 5, "enpove": 6}


def family_stream(seed: int, family: str) -> np.random.Generator:
    """The random stream of one source family: the same seed gives each family the same data whatever else is
    generated (the benchmarks generate one family alone)."""
    return np.random.default_rng(np.random.SeedSequence([seed, STREAMS[family]]))


def _relative(paths: list[Path], landing_dir: Path) -> list[str]:
    return [p.relative_to(landing_dir).as_posix() for p in paths]


def _enaho_streams(seed: int, waves: list[int], year: int) -> dict[int, np.random.Generator]:
    return {wave: family_stream(seed, "enaho") if wave == year else
            np.random.default_rng(np.random.SeedSequence([seed, STREAMS["enaho"], wave])) for wave in waves}


def _generate_survey_family(seed: int, truth: dict, sizes: dict, landing_dir: Path) -> tuple[dict, list[Path]]:
    """ENAHO waves and ENAHOPV (survey.py), then ENPOVE 2022 (enpove.py, realized figures under "enpove")."""
    survey, paths = generate_surveys(_enaho_streams(seed, sizes["enaho_waves"], truth["year"]),
                                     family_stream(seed, "enahopv"), truth, sizes, landing_dir)
    enpove, enpove_paths = generate_enpove(family_stream(seed, "enpove"), truth, sizes, landing_dir)
    return {**survey, "enpove": enpove}, paths + enpove_paths


def generate_demo_landing(landing_dir: Path, scale: str | float = "demo", seed: int = 2024, *,
                          waves: list[int] | None = None, label_valued: bool | None = None) -> dict:
    """Write the demo landing zone under `landing_dir`; return (and write to demo_truth.json) the realized truth.

    `scale`: "tiny", "demo", "national", or a float multiplier of the "demo" sizes.
    `waves`: ENAHO waves to write (default: the preset's `enaho_waves`, else the survey year); each is a fresh
    sample with the same planted parameters. ENAHOPV is written for the survey year only, ENPOVE for 2022 only.
    `label_valued`: write ENAHO module 500 with INEI value labels instead of codes (default: the preset's, off).
    """
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    truth = load_truth()
    sizes = _sizes(truth, scale, waves, label_valued)
    survey, survey_paths = _generate_survey_family(seed, truth, sizes, landing_dir)
    registry, registry_paths = generate_registry(family_stream(seed, "registry"), truth, sizes, landing_dir)
    unhcr, unhcr_paths = generate_unhcr(truth, landing_dir)
    partners, partner_paths = generate_partners(family_stream(seed, "fivew"), family_stream(seed, "beneficiaries"), truth, sizes,
                                                landing_dir)
    realized = {
        "seed": seed,
        "scale": scale if isinstance(scale, str) else float(scale),
        "sizes": sizes,
        "files": _relative(survey_paths + registry_paths + unhcr_paths + partner_paths, landing_dir),
        "survey": {"planted": truth["survey"], "derived": derived_expectations(truth), **survey},
        "registry": {"planted": {k: truth["registry"][k] for k in ("regular_share_target", "regular_statuses")},
                     **registry},
        "unhcr": unhcr,
        "partners": partners,
    }
    with atomic_path(landing_dir / TRUTH_JSON) as tmp:
        tmp.write_text(json.dumps(realized, ensure_ascii=False, indent=1, default=_json_default), encoding="utf-8")
    return json.loads((landing_dir / TRUTH_JSON).read_text(encoding="utf-8"))  # exactly the file's content


def generate_survey_landing(landing_dir: Path, scale: str | float = "demo", seed: int = 2024, *,
                            waves: list[int] | None = None, label_valued: bool | None = None,
                            enaho_households: int | None = None, enahopv_households: int | None = None,
                            enpove_households: int | None = None) -> dict:
    """Write only the survey family (ENAHO, ENAHOPV, ENPOVE 2022) under `landing_dir`; return its realized truth.

    Same arguments and random streams as `generate_demo_landing`, so for the same seed, scale and options the
    survey files hold the same data as the ones it writes (identical bytes, except the write time SPSS .sav files
    carry); no registry, UNHCR or partner file and no demo_truth.json are written. `enaho_households`,
    `enahopv_households` and `enpove_households` override the preset's sizes. Returns {"seed", "sizes", "files",
    "survey"} (the survey part of demo_truth.json).
    """
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    truth = load_truth()
    sizes = _sizes(truth, scale, waves, label_valued)
    if enaho_households is not None:
        sizes["enaho_households"] = int(enaho_households)
    if enahopv_households is not None:
        sizes["enahopv_households"] = int(enahopv_households)
    if enpove_households is not None:
        sizes["enpove_households"] = int(enpove_households)
    survey, paths = _generate_survey_family(seed, truth, sizes, landing_dir)
    realized = {"seed": seed, "sizes": sizes, "files": _relative(paths, landing_dir),
                "survey": {"planted": truth["survey"], "derived": derived_expectations(truth), **survey}}
    return json.loads(json.dumps(realized, ensure_ascii=False, default=_json_default))  # plain JSON types


def _sizes(truth: dict, scale: str | float, waves: list[int] | None, label_valued: bool | None) -> dict:
    sizes = resolve_sizes(truth, scale)
    if waves is not None:
        sizes["enaho_waves"] = sorted({int(w) for w in waves})
    if label_valued is not None:
        sizes["label_valued"] = bool(label_valued)
    return sizes


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _waves(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _scale(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the seeded demo landing zone (see dagster_project/demo).")
    parser.add_argument("--landing", type=Path, required=True, help="landing directory to write into")
    parser.add_argument("--scale", type=_scale, default="demo",
                        help='"tiny", "demo", "national", or a multiplier of the demo sizes (default: demo)')
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--waves", type=_waves, default=None,
                        help="ENAHO waves, comma-separated (default: the preset's; must include the survey year)")
    parser.add_argument("--label-valued", action="store_true", default=None,
                        help="write ENAHO module 500 with INEI value labels instead of codes")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    realized = generate_demo_landing(args.landing, args.scale, args.seed, waves=args.waves,
                                     label_valued=args.label_valued)
    print(f"wrote {len(realized['files'])} files and {TRUTH_JSON} under {args.landing} "
          f"(scale {realized['sizes']['name']}, seed {args.seed}) in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
