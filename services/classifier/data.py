"""What genre models read and learn from: titles as text, labelled titles, datasets.

No FastStream, no database: the service, the CLI and the training pipeline all speak
these types, so a model trained from a file and one served from the registry see the
same input.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class TitleText:
    """The input of a genre model: what a title is called and what it is about."""

    title: str
    overview: str
    media_type: str = "movie"
    year: int | None = None


@dataclass(frozen=True)
class LabelledTitle(TitleText):
    """A title with its reference genres (TMDb's), and the LLM's as a flagged second source.

    ``llm_genres`` never trains a model unless asked for: it is kept to measure how often
    the model and the LLM agree.
    """

    id: str = ""
    genres: tuple[str, ...] = ()
    llm_genres: tuple[str, ...] | None = None
    label_source: str = "reference"  # "tmdb", "file"…, or "llm" when the LLM's are the labels


@dataclass
class Dataset:
    """Labelled titles in a fixed order, with the label space they are scored over."""

    rows: list[LabelledTitle]
    labels: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.labels:
            present = {g for row in self.rows for g in row.genres}
            self.labels = tuple(sorted(present))

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[LabelledTitle]:
        return iter(self.rows)

    def label_matrix(self, labels: Sequence[str] | None = None) -> NDArray[np.int8]:
        """Return the (titles × labels) 0/1 matrix of the reference genres."""
        space = list(labels or self.labels)
        index = {label: i for i, label in enumerate(space)}
        y = np.zeros((len(self.rows), len(space)), dtype=np.int8)
        for r, row in enumerate(self.rows):
            for genre in row.genres:
                if genre in index:
                    y[r, index[genre]] = 1
        return y

    def subset(self, rows: Sequence[LabelledTitle]) -> Dataset:
        """Return a dataset of some of these rows over the same label space."""
        return Dataset(list(rows), self.labels)
