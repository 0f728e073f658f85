"""The featuriser's affix block and the radix sort under every TF-IDF block."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import sparse

from services.classifier.data import TitleText
from services.classifier.features import (
    FeatureParams,
    HashedTfidf,
    TitleFeaturiser,
    _buckets,
    _codes,
    _radix_sort,
    affixes,
)

AFFIXES_ONLY = FeatureParams(word_min_df=1, title_min_df=1, affix_max_features=100, affix_min_df=2)


def test_words_that_share_a_stem_share_affix_columns() -> None:
    featuriser = TitleFeaturiser.fit(
        [TitleText("A", "murders"), TitleText("B", "murderous")], AFFIXES_ONLY
    )
    # both: first 4 "murd", first 6 "murder"; last 3 "ers" against "ous"
    assert featuriser.blocks["text_affixes"].size == 2
    row = featuriser.transform([TitleText("C", "murderer")])
    assert row[0, featuriser.slices["text_affixes"]].nnz == 2


def test_a_short_word_gives_itself_once_per_length() -> None:
    hashes, docs = affixes(_codes(["go", "", "go go"]))
    # three lengths per word; "go" hashes the same in either text
    assert len(hashes) == 9
    assert sorted(docs.tolist()) == [0, 0, 0, 2, 2, 2, 2, 2, 2]
    assert len(set(hashes.tolist())) == 3
    assert affixes(_codes(["go"]), prefixes=(), suffixes=())[0].size == 0


def test_the_affix_block_is_off_by_default() -> None:
    featuriser = TitleFeaturiser.fit([TitleText("A", "b c")], FeatureParams(word_min_df=1))
    assert "text_affixes" not in featuriser.blocks


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, (1 << 40) - 1), max_size=300), st.sampled_from([8, 16, 17, 33, 40]))
def test_radix_sort_sorts(values: list[int], bits: int) -> None:
    top = 1 << bits
    keys = np.array([v % top for v in values], dtype=np.int64)
    np.testing.assert_array_equal(_radix_sort(keys, top), np.sort(keys))


def _reference(
    block: HashedTfidf, hashes: NDArray[np.uint64], doc: NDArray[np.int64], n_docs: int
) -> NDArray[np.float64]:
    """The TF-IDF matrix by ``np.unique``, as the block computed it before the radix sort."""
    dense = np.zeros((n_docs, block.size))
    column = block._column[_buckets(hashes)]
    known = column >= 0
    cells, counts = np.unique(doc[known] * block.size + column[known], return_counts=True)
    rows, columns = np.divmod(cells, block.size)
    dense[rows, columns] = (1 + np.log(counts)) * block.idf[columns]
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    scaled: NDArray[np.float64] = np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)
    return scaled


@pytest.mark.parametrize("n_docs", [1, 7, 300])
def test_transform_matches_the_unique_based_tfidf(n_docs: int) -> None:
    rng = np.random.default_rng(n_docs)
    vocabulary = rng.integers(0, 1 << 63, 400, dtype=np.uint64)
    hashes = rng.choice(vocabulary, 5 * n_docs + 20)
    doc = rng.integers(0, n_docs, len(hashes))
    counted = [HashedTfidf.document_frequency(hashes, doc)]
    block = HashedTfidf.fit(counted, n_docs, min_df=1, max_features=300)

    matrix = block.transform(hashes, doc, n_docs)

    assert isinstance(matrix, sparse.csr_matrix)
    assert matrix.has_sorted_indices
    np.testing.assert_allclose(matrix.toarray(), _reference(block, hashes, doc, n_docs), rtol=1e-5)
