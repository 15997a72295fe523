"""Helpers shared by the figure modules (private)."""

__all__ = ["prepare_figure"]


def prepare_figure(fig, size):
    """A new constrained-layout Figure of ``size`` inches (no pyplot state), or ``fig``
    resized to it."""
    from matplotlib.figure import Figure  # here: Matplotlib is needed by plot() only

    if fig is None:
        return Figure(figsize=size, layout="constrained")
    fig.set_size_inches(*size)
    fig.set_layout_engine("constrained")
    return fig
