"""Parse v2 tiers and requests: which tier and pinned version, and the ``POST /api/v2/parse`` body.

The presets map onto the tiers of the same names; ``fast`` is a fourth tier, v2 only, chosen
with ``parse_options={"tier": "fast"}`` (or ``preset="fast"`` once
:class:`~llama_index_cloudkit.presets.ParsePreset` knows it). Every tier is pinned to a dated
version (:data:`V2_TIERS`), so a result does not change under you; ``parse_options={"version":
"latest"}`` or another date overrides the pin. Tier and version are part of the cache key.

``parse_options`` mean the same on v1 and v2 (LlamaParse's names, validated as on v1) and are
translated: ``max_pages`` and ``target_pages`` (0-based, as on v1) to ``page_ranges`` (1-based),
``take_screenshot`` to a ``screenshot`` image, ``disable_image_extraction`` to no embedded
images, ``language`` to OCR languages, ``user_prompt`` / ``system_prompt_append`` /
``parsing_instruction`` to the agentic custom prompt, ``invalidate_cache`` / ``do_not_cache`` to
``disable_cache``. Any other option has no v2 equivalent and is refused (ConfigError), never
dropped.

Pure functions and data, no HTTP: :mod:`.cloud_v2` sends the body.

Example:
    >>> V2_TIERS["agentic"].version, V2_TIERS["fast"].credits_per_page
    ('2026-10-16', 1)
    >>> v2_request("agentic", {"max_pages": 2})["page_ranges"]
    {'max_pages': 2}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.presets import ParsePreset

__all__ = [
    "V2_TIERS",
    "V2Tier",
    "check_preset_for_api",
    "v2_key_options",
    "v2_request",
    "v2_tier",
]


@dataclass(frozen=True)
class V2Tier:
    """One Parse v2 tier: its name, the dated version it is pinned to, its credits per page.

    Example:
        >>> V2_TIERS["cost_effective"].credits_per_page
        3
    """

    name: str
    version: str
    credits_per_page: int
    markdown: bool = True  # markdown and items are "not on fast" (reference, section 2)


V2_TIERS: dict[str, V2Tier] = {
    # Pins: what "latest" resolved to in llama-cloud 2.19.0's docstring (reference, section 2).
    "fast": V2Tier("fast", "2026-06-15", 1, markdown=False),
    "cost_effective": V2Tier("cost_effective", "2026-09-28", 3),
    "agentic": V2Tier("agentic", "2026-10-16", 10),
    "agentic_plus": V2Tier("agentic_plus", "2026-09-28", 45),
}
"""The v2 table: tier -> pinned version and credits per page (``fast`` is v2 only)."""

# v1 option name -> how it is carried on v2 (anything not listed is refused on v2).
_PAGE_OPTIONS = ("max_pages", "target_pages")
_PROMPTS = ("user_prompt", "system_prompt_append", "parsing_instruction")
_CACHE_OFF = ("invalidate_cache", "do_not_cache")
_V2_OPTIONS = {
    "tier",
    "version",
    *_PAGE_OPTIONS,
    *_PROMPTS,
    *_CACHE_OFF,
    "take_screenshot",
    "save_images",
    "disable_image_extraction",
    "inline_images_in_markdown",
    "language",
}


def _name(preset: str | ParsePreset) -> str:
    return str(getattr(preset, "value", preset)).strip().lower().replace("-", "_")


def check_preset_for_api(preset: str | ParsePreset, api_version: str) -> str:
    """The tier a preset name stands for; ``fast`` on v1 is refused with the way out.

    Raises:
        ConfigError: ``fast`` with ``api_version="v1"``, or a name that is no tier.

    Example:
        >>> check_preset_for_api("agentic-plus", "v2")
        'agentic_plus'
        >>> check_preset_for_api("fast", "v1")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: The 'fast' parse preset exists on ... v2 only. ...
    """
    name = _name(preset)
    if name == "fast" and api_version != "v2":
        raise ConfigError(
            "The 'fast' parse preset exists on LlamaCloud's API v2 only",
            hint="Set api_version='v2' (or CLOUDKIT_API_VERSION=v2), or pick cost_effective, "
            "agentic or agentic_plus on v1",
        )
    if name not in V2_TIERS:
        raise ConfigError(f"Unknown parse preset {preset!r}", hint="Use one of: " + ", ".join(V2_TIERS))
    return name


def v2_tier(preset: str | ParsePreset, options: Mapping[str, Any]) -> tuple[V2Tier, str]:
    """The tier (``options["tier"]`` over the preset) and the version (``options["version"]``
    over the tier's pin).

    Example:
        >>> tier, version = v2_tier(ParsePreset.AGENTIC, {"tier": "fast"})
        >>> tier.name, version
        ('fast', '2026-06-15')
    """
    name = check_preset_for_api(options.get("tier") or preset, "v2")
    tier = V2_TIERS[name]
    return tier, str(options.get("version") or tier.version)


def _target_pages(spec: str) -> str:
    """v1's 0-based ``"0,2-4"`` as v2's 1-based ``"1,3-5"``."""
    parts = []
    for part in str(spec).replace(" ", "").split(","):
        if not part:
            continue
        bounds = part.split("-")
        if not all(b.isdigit() for b in bounds) or len(bounds) > 2:
            raise ConfigError(
                f"target_pages {spec!r} is not a list of pages and ranges",
                hint="Write 0-based pages as on v1, e.g. '0,2-4'",
            )
        parts.append("-".join(str(int(b) + 1) for b in bounds))
    return ",".join(parts)


def v2_request(preset: str | ParsePreset, options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /api/v2/parse`` body for a preset and LlamaParse-named options (no file id).

    Raises:
        ConfigError: an option with no v2 equivalent, or a custom prompt on the ``fast`` tier.

    Example:
        >>> body = v2_request("cost_effective", {"target_pages": "0,2-3", "take_screenshot": True})
        >>> body["tier"], body["version"], body["page_ranges"]
        ('cost_effective', '2026-09-28', {'target_pages': '1,3-4'})
        >>> body["output_options"]
        {'images_to_save': ['screenshot', 'embedded']}
    """
    unknown = sorted(set(options) - _V2_OPTIONS)
    if unknown:
        raise ConfigError(
            f"LlamaParse option(s) with no Parse v2 equivalent: {', '.join(unknown)}",
            hint="Remove them, or use api_version='v1'; v2 takes: " + ", ".join(sorted(_V2_OPTIONS)),
        )
    tier, version = v2_tier(preset, options)
    body: dict[str, Any] = {"tier": tier.name, "version": version}
    pages: dict[str, Any] = {}
    if options.get("max_pages") is not None:
        pages["max_pages"] = int(options["max_pages"])
    if options.get("target_pages"):
        pages["target_pages"] = _target_pages(str(options["target_pages"]))
    if pages:
        body["page_ranges"] = pages
    images = []
    if options.get("take_screenshot"):
        images.append("screenshot")
    if options.get("save_images") or not options.get("disable_image_extraction"):
        images.append("embedded")
    output: dict[str, Any] = {"images_to_save": images}
    if options.get("inline_images_in_markdown") is not None:
        output["markdown"] = {"inline_images": bool(options["inline_images_in_markdown"])}
    body["output_options"] = output
    if options.get("language"):
        languages = [x.strip() for x in str(options["language"]).split(",") if x.strip()]
        body["processing_options"] = {"ocr_parameters": {"languages": languages}}
    prompts = [str(options[p]) for p in _PROMPTS if options.get(p)]
    if prompts:
        if tier.name == "fast":
            raise ConfigError(
                "The fast tier takes no custom prompt (user_prompt, system_prompt_append, "
                "parsing_instruction)",
                hint="Pick cost_effective, agentic or agentic_plus, or drop the prompt",
            )
        body["agentic_options"] = {"custom_prompt": "\n\n".join(prompts)}
    if any(options.get(o) for o in _CACHE_OFF):
        body["disable_cache"] = True
    return body


def v2_key_options(preset: str | ParsePreset, options: Mapping[str, Any]) -> dict[str, Any]:
    """What beside the bytes makes a v2 result: the API generation, tier, pinned version, options.

    The v2 key never equals a v1 key (it names ``api_version``), so a v1 cache entry is never
    served for a v2 read, nor the other way round.

    Example:
        >>> v2_key_options(ParsePreset.AGENTIC, {"max_pages": 2})
        {'api_version': 'v2', 'tier': 'agentic', 'version': '2026-10-16', 'options': {'max_pages': 2}}
    """
    tier, version = v2_tier(preset, options)
    rest = {k: v for k, v in sorted(options.items()) if k not in ("tier", "version")}
    return {"api_version": "v2", "tier": tier.name, "version": version, "options": rest}
