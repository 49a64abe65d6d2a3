"""The notebook widgets: ``ReconstructWidget`` for one video, ``BatchWidget`` (``reconstruct_many``)
for many (anywidget front ends in ``js/src/widget/`` and ``js/src/batch/``)."""

from ._batch import BatchWidget, reconstruct_many
from ._widget import ReconstructWidget

__all__ = ["ReconstructWidget", "BatchWidget", "reconstruct_many"]
