"""The notebook widget: ``ReconstructWidget`` (anywidget front end in ``js/src/widget/``)."""

from ._widget import ReconstructWidget

__all__ = ["ReconstructWidget"]
