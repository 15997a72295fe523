"""Helpers shared by the figure modules (private)."""

import numpy as np

__all__ = ["CLIPPED_LABEL", "clipped_handle", "mark_clipped", "prepare_figure"]

#: Legend text of the marks :func:`mark_clipped` draws.
CLIPPED_LABEL = "values above the axis, drawn at its edge"


def prepare_figure(fig, size):
    """A new constrained-layout Figure of ``size`` inches (no pyplot state), or ``fig``
    resized to it."""
    from matplotlib.figure import Figure  # here: Matplotlib is needed by plot() only

    if fig is None:
        return Figure(figsize=size, layout="constrained")
    fig.set_size_inches(*size)
    fig.set_layout_engine("constrained")
    return fig


def mark_clipped(ax, x, values, *, color, filled=True, shift=0.0):
    """Draw an upward triangle at the top edge of ``ax`` at each ``x`` whose value lies
    above the axis (``inf`` included), so that no value leaves the plot unmarked.

    Call it once the y limits are final; it keeps them.  ``filled=False`` draws open
    triangles (e.g. for the top of a band); ``shift`` moves the marks right by that
    many points, so that the marks of several lines at one ``x`` stay apart.  Returns
    the ``Line2D`` drawn, or ``None`` when nothing lies above the axis.
    """
    from matplotlib.transforms import offset_copy  # here: Matplotlib is optional

    top = ax.get_ylim()[1]
    x = np.asarray(x, dtype=float)
    values = np.asarray(values, dtype=float)
    above = ~np.isnan(values) & (values > top)
    if not above.any():
        return None
    (line,) = ax.plot(x[above], np.full(int(above.sum()), top), ls="none", marker="^",
                      ms=7 if filled else 6, color=color,
                      mfc=color if filled else "none", clip_on=False, zorder=5,
                      gid="clipped",
                      transform=offset_copy(ax.transData, fig=ax.figure, x=shift, y=0.0,
                                            units="points"))
    ax.set_ylim(top=top)
    return line


def clipped_handle(label=CLIPPED_LABEL):
    """A legend entry for the marks of :func:`mark_clipped`."""
    from matplotlib.lines import Line2D  # here: Matplotlib is optional

    return Line2D([], [], ls="none", marker="^", ms=7, color="0.35", label=label)
