"""tune_retrieval: the sweep agrees with search, the guard keeps a preset within noise, the
choice persists with the index, and it runs offline on the example documents."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from llama_index.core.base.llms.types import CompletionResponse, LLMMetadata
from llama_index.core.llms import CustomLLM
from llama_index.core.schema import TextNode

from llama_index_cloudkit import (
    CloudKitReader,
    ConfigError,
    HybridConfig,
    LocalHybridIndex,
    make_retriever,
    tune_retrieval,
)
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.tuning.questions import load_questions, parse_questions, resolve
from llama_index_cloudkit.retrieve.tuning.sweep import Sweeper, ndcg_at_10

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"


@pytest.fixture(scope="module")
def examples_index() -> LocalHybridIndex:
    documents = CloudKitReader(backend="local").load_data(sorted(str(p) for p in EXAMPLES.iterdir()))
    return LocalHybridIndex.from_documents(documents, chunk_size=128, chunk_overlap=16)


def test_the_sweep_scores_exactly_what_search_returns(index: LocalHybridIndex) -> None:
    judged = parse_questions(
        [("how much hay", ["hay"]), ("is the shop refunding", ["refund", "ship"]), ("herd of one", ["herd"])]
    )
    relevant = resolve(judged, index.nodes)
    sweeper = Sweeper(index, [q.question for q in judged], relevant, max_leg_top_k=5)
    for alpha in (0.0, 0.3, 1.0):
        for k in (2, 5):
            config = HybridConfig(
                alpha=alpha,
                dense_similarity_top_k=k,
                sparse_similarity_top_k=k,
                enable_reranking=False,
                top_k=10,
            )
            expected = [
                ndcg_at_10([h.node.node_id for h in index.search(q.question, config)], items)
                for q, items in zip(judged, relevant, strict=True)
            ]
            assert sweeper.score(alpha, k).ndcg_at_10 == pytest.approx(sum(expected) / len(expected))


def test_relevance_by_document_id_and_file_page_counts_each_item_once() -> None:
    nodes = [
        TextNode(text="a", id_="n1", metadata={"file_name": "guide.pdf", "page_number": 2}),
        TextNode(text="b", id_="n2", metadata={"file_name": "guide.pdf", "page_number": 2}),
        TextNode(text="c", id_="n3", metadata={"file_name": "faq.html", "page_number": 1}),
    ]
    judged = parse_questions([{"question": "q", "relevant": [{"file": "guide.pdf", "page": 2}, "n3"]}])
    (items,) = resolve(judged, nodes)
    assert items == [{"n1", "n2"}, {"n3"}]
    assert ndcg_at_10(["n1", "n2", "n3"], items) == pytest.approx((1 + 1 / 2) / (1 + 1 / 1.584962500721156))


def test_offline_on_the_example_documents_keeps_a_preset_within_noise(
    examples_index: LocalHybridIndex, tmp_path: Path
) -> None:
    questions = load_questions(DATA / "examples-questions.jsonl")
    assert len(questions) == 20
    result = tune_retrieval(examples_index, questions, apply=False)
    assert result.questions == 20 and result.held_out == 6 and not result.skipped
    assert len(result.rows) == 11 * 4
    assert "| alpha | k=10 | k=20 | k=50 | k=100 |" in result.table()
    if result.kept_preset:
        assert result.config == result.start
    assert result.best.ndcg_at_10 >= max(r.ndcg_at_10 for r in result.rows)
    written = result.write(tmp_path / "tuning")
    assert [p.name for p in written] == ["tuning.md", "tuning.png"]
    assert written[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_real_gain_on_held_back_questions_changes_the_settings(embedder: MiniLMEmbedding) -> None:
    # Part codes: BM25 finds them, MiniLM cannot tell them apart. Start dense-only.
    codes = [f"QX{n}7Z{n * 3}" for n in range(100, 140)]
    nodes = [TextNode(text=f"Spare part {code} for the milking stand.", id_=code) for code in codes]
    index = LocalHybridIndex(nodes, embed_model=embedder)
    questions = [(f"Where do I find part {code}?", [code]) for code in codes]
    dense_only = HybridConfig(alpha=1.0, dense_similarity_top_k=10, sparse_similarity_top_k=10)
    result = tune_retrieval(index, questions, preset=dense_only)
    assert not result.kept_preset
    assert result.config.alpha < 0.5
    assert result.held_out_best > result.held_out_start + result.noise
    assert index.retrieval_config == result.config  # applied


def test_the_choice_persists_with_the_index_and_retrievers_use_it(
    index: LocalHybridIndex, tmp_path: Path
) -> None:
    index.persist(tmp_path / "idx")
    questions = [(text, [node_id]) for node_id, text in (("hay", "hay per day"), ("ship", "shipping days"))]
    chosen = HybridConfig(alpha=0.3, dense_similarity_top_k=10, sparse_similarity_top_k=10, rerank_top_n=4)
    result = tune_retrieval(index, questions, preset=chosen, min_gain=1.0, persist_dir=tmp_path / "idx")
    assert result.kept_preset and result.config == chosen
    loaded = LocalHybridIndex.load(tmp_path / "idx", embed_model=index.embed_model)
    assert loaded.retrieval_config == chosen
    assert loaded.as_retriever().config == chosen
    assert make_retriever(loaded).config == chosen  # type: ignore[attr-defined]
    assert len(make_retriever(loaded, top_k=2).retrieve("hay")) == 2
    assert make_retriever(loaded, "keyword").config.alpha == 0.2  # type: ignore[attr-defined]
    loaded.retrieval_config = None
    loaded.persist(tmp_path / "idx")
    assert LocalHybridIndex.load(tmp_path / "idx", embed_model=index.embed_model).retrieval_config is None


class QuestionWriter(CustomLLM):
    """An LLM that turns a passage into a question by echoing its first words."""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="question-writer")

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        passage = prompt.split("---------------------\n")[1]
        return CompletionResponse(text="1. What about " + " ".join(passage.split()[:6]) + "?")

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        yield self.complete(prompt)


def test_with_no_questions_an_llm_writes_them(index: LocalHybridIndex) -> None:
    result = tune_retrieval(index, llm=QuestionWriter(), num_questions=8, apply=False)
    assert result.questions == 8


def test_without_questions_or_llm_it_says_what_to_pass(index: LocalHybridIndex) -> None:
    with pytest.raises(ConfigError, match="questions"):
        tune_retrieval(index)


def test_questions_that_name_nothing_in_the_index_are_a_config_error(index: LocalHybridIndex) -> None:
    with pytest.raises(ConfigError, match="names a passage"):
        tune_retrieval(index, [("q", ["no-such-node"])])


def test_some_unknown_items_are_skipped_and_reported(index: LocalHybridIndex) -> None:
    result = tune_retrieval(index, [("hay", ["hay"]), ("water", ["water"]), ("q", ["nope"])], apply=False)
    assert result.skipped == ["q"] and "1 skipped" in result.summary()


def test_the_plot_needs_matplotlib_and_says_which_extra(
    index: LocalHybridIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = tune_retrieval(index, [("hay", ["hay"]), ("water", ["water"])], apply=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"llama-index-cloudkit\[tune\]"):
        result.plot(tmp_path / "x.png")


def _invoke(args: Sequence[str]) -> Any:
    from llama_index_cloudkit.cli import cli

    return CliRunner().invoke(cli, ["tune", *args])


def test_cloudkit_tune_writes_table_and_plot_and_keeps_the_choice(
    examples_index: LocalHybridIndex, tmp_path: Path
) -> None:
    examples_index.persist(tmp_path / "idx")
    result = _invoke([str(tmp_path / "idx"), "--questions", str(DATA / "examples-questions.jsonl")])
    assert result.exit_code == 0, result.output
    assert "| alpha | k=10 |" in result.output and "20 judged questions" in result.output
    assert (tmp_path / "idx" / "tuning" / "tuning.md").is_file()
    assert (tmp_path / "idx" / "tuning" / "tuning.png").is_file()
    assert LocalHybridIndex.load(tmp_path / "idx").retrieval_config is not None


def test_cloudkit_tune_needs_questions_or_generate(examples_index: LocalHybridIndex, tmp_path: Path) -> None:
    examples_index.persist(tmp_path / "idx")
    result = _invoke([str(tmp_path / "idx")])
    assert result.exit_code == 2 and "--questions" in result.output
    result = _invoke([str(tmp_path / "idx"), "--generate", "5"])
    assert result.exit_code == 2 and "OPENAI_API_KEY" in result.output


SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "data" / "beir" / "scifact"
BENCH_CACHE = Path(__file__).resolve().parents[2] / "benchmarks" / ".cache"


@pytest.mark.slow
def test_on_scifact_train_the_choice_is_within_0_005_of_the_best_of_the_sweep() -> None:
    import hashlib
    import json

    import numpy as np

    if not SCIFACT.is_dir():
        pytest.skip(f"SciFact is not here ({SCIFACT}); it ships beside the checkout in the project's CI")
    embedder = MiniLMEmbedding()
    corpus = SCIFACT / "corpus.jsonl"
    digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:16]
    cached = BENCH_CACHE / f"scifact-{embedder.model_name}-{digest}.npy"
    if not cached.is_file():
        pytest.skip("no SciFact embeddings yet: run python benchmarks/retrieval.py once (about 6 minutes)")
    docs = [json.loads(line) for line in corpus.open()]
    nodes = [TextNode(text=f"{d['title']} {d['text']}".strip(), id_=d["_id"]) for d in docs]
    index = LocalHybridIndex(nodes, embed_model=embedder, _embeddings=np.load(cached, allow_pickle=False))
    texts = {q["_id"]: q["text"] for q in map(json.loads, (SCIFACT / "queries.jsonl").open())}
    qrels: dict[str, list[str]] = {}
    for line in list((SCIFACT / "qrels" / "train.tsv").open())[1:]:
        query_id, doc_id, _ = line.rstrip("\n").split("\t")
        qrels.setdefault(query_id, []).append(doc_id)
    questions = [(texts[q], docs_) for q, docs_ in qrels.items()]
    vectors = embedder.embed([q for q, _ in questions])

    result = tune_retrieval(index, questions, apply=False, _vectors=vectors)

    judged = parse_questions(questions)
    sweeper = Sweeper(
        index, [q.question for q in judged], resolve(judged, index.nodes), max_leg_top_k=100, vectors=vectors
    )
    best = max(
        sweeper.sweep((0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), (10, 20, 50, 100)),
        key=lambda r: r.ndcg_at_10,
    )
    chosen = result.config
    everyone = range(len(judged))
    scores, _ = sweeper.per_question(
        chosen.alpha, chosen.dense_similarity_top_k, chosen.sparse_similarity_top_k, everyone
    )
    assert sum(scores) / len(scores) >= best.ndcg_at_10 - 0.005
