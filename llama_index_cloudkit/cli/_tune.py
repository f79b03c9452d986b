"""``cloudkit tune``: tune a local index's retrieval settings on your own judged questions.

The logic is :func:`llama_index_cloudkit.retrieve.tuning.tune.tune_retrieval`; this command reads
the questions, prints the summary and the sweep table, writes ``tuning.md`` and ``tuning.png``
(nDCG@10 against alpha) and keeps the chosen settings with the index.

Example:
    $ cloudkit index examples/data --name handbook
    $ cloudkit tune handbook --questions examples/questions.jsonl
"""

from __future__ import annotations

from pathlib import Path

import click

from llama_index_cloudkit.cli._group import fail_usage
from llama_index_cloudkit.retrieve.presets import RetrievalPreset

__all__ = ["tune"]


def _local_index_folder(index: str) -> Path:
    """The folder of a local index given as a folder or as the name ``cloudkit index`` took."""
    for folder in (Path(index), Path(f"{index}-index")):
        if (folder / "params.json").is_file():
            return folder
    fail_usage(
        f"no local index {index!r}: neither {index} nor {index}-index holds one "
        f"(build it with: cloudkit index FOLDER --name {index})"
    )


@click.command()
@click.argument("index_dir", metavar="INDEX")
@click.option(
    "--questions",
    "questions_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help='JSON Lines, one {"question": ..., "relevant": [node id | document id | [file, page]]} a line.',
)
@click.option(
    "--generate",
    type=click.IntRange(1, 1000),
    default=None,
    help="Instead of --questions: have the LLM of OPENAI_API_KEY write this many questions.",
)
@click.option(
    "--preset",
    type=click.Choice([p.value for p in RetrievalPreset]),
    default=None,
    help="Starting settings (default: the index's tuned settings, else balanced).",
)
@click.option(
    "--held-out",
    type=click.FloatRange(0.0, 0.9),
    default=0.3,
    show_default=True,
    help="Share of questions held back to check the choice.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for tuning.md and tuning.png (default: INDEX_DIR/tuning).",
)
@click.option("--save/--no-save", default=True, show_default=True, help="Keep the choice with the index.")
def tune(
    index_dir: str,
    questions_path: str | None,
    generate: int | None,
    preset: str | None,
    held_out: float,
    seed: int,
    out_dir: str | None,
    save: bool,
) -> None:
    """Sweep alpha and per-leg top-k of the local index INDEX on judged questions.

    INDEX is the index folder, or the name given to ``cloudkit index --name`` (its folder is
    NAME-index).

    Keeps the starting preset unless the best setting also wins on held-back questions by more
    than noise. Runs offline with --questions; --generate needs OPENAI_API_KEY.

    \b
    Examples:
      cloudkit tune handbook --questions examples/questions.jsonl
      cloudkit tune handbook-index --questions examples/questions.jsonl
      cloudkit tune handbook-index --generate 30 --no-save
    """
    from llama_index_cloudkit.errors import ConfigError
    from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
    from llama_index_cloudkit.retrieve.tuning.questions import load_questions
    from llama_index_cloudkit.retrieve.tuning.tune import tune_retrieval

    if (questions_path is None) == (generate is None):
        raise click.UsageError("Give exactly one of --questions FILE and --generate N")
    llm = None
    if generate is not None:
        from llama_index_cloudkit.retrieve.factory import default_llm

        llm = default_llm()
        if llm is None:
            raise ConfigError(
                "--generate needs an LLM, and OPENAI_API_KEY is not set",
                hint="Set OPENAI_API_KEY, or write your own questions and pass --questions FILE",
            )
    index_dir = str(_local_index_folder(index_dir))
    index = LocalHybridIndex.load(index_dir)
    questions = load_questions(questions_path) if questions_path is not None else None
    result = tune_retrieval(
        index,
        questions,
        llm=llm,
        num_questions=generate or 20,
        preset=preset,
        held_out=held_out,
        seed=seed,
        persist_dir=index_dir if save else None,
    )
    click.echo(result.summary())
    click.echo()
    click.echo(result.table())
    click.echo()
    target = Path(out_dir) if out_dir else Path(index_dir) / "tuning"
    try:
        written = result.write(target)
    except ImportError as exc:  # the table is written; only the plot needs the extra
        written = [target / "tuning.md"]
        click.echo(f"warning: no plot: {exc}", err=True)
    click.echo("wrote " + ", ".join(str(p) for p in written))
    if save:
        click.echo(f"kept the chosen settings with the index ({Path(index_dir) / 'retrieval.json'})")
